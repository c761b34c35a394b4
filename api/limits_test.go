package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
)

// tickInspector's followed journal writes a line every tick until ctx
// ends; floodInspector's writes as fast as it can, and tells how it
// ended.
type tickInspector struct{ *fakeInspector }

func (tickInspector) Journal(ctx context.Context, _ string, _ api.JournalOptions, w io.Writer) error {
	for i := 1; ; i++ {
		if _, err := fmt.Fprintf(w, "tick %d\n", i); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

type floodInspector struct {
	*fakeInspector
	ended chan error
}

func (f floodInspector) Journal(ctx context.Context, _ string, _ api.JournalOptions, w io.Writer) error {
	chunk := []byte(strings.Repeat("x", 64<<10))
	for {
		if _, err := w.Write(chunk); err != nil {
			f.ended <- err
			return err
		}
	}
}

// limitedServer serves the API of machine m1, with in as its inspector,
// in an HTTP server within l.
func limitedServer(t *testing.T, in api.Inspector, l api.Limits, opts api.Options) *httptest.Server {
	t.Helper()
	f := newFixture(t, api.Options{})
	f.schedule("hello.service", "m1")
	opts.MachineID, opts.Inspector = "m1", in
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = api.NewHTTPServer(api.NewServer(f.reg, opts), l)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestFollowersAreCapped(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{MaxFollowers: 2})
	f.schedule("hello.service", "m1")
	path := "/fleet/v1/units/hello.service/journal?lines=1&follow=true"
	first, _, _ := follow(t, m1.srv, path)
	follow(t, m1.srv, path)
	a := getText(t, m1.srv, path, nil)
	wantError(t, a, http.StatusTooManyRequests, "2 journals are followed", "try again later")
	if a.Header.Get("Retry-After") == "" {
		t.Error("a 429 with no Retry-After")
	}
	if calls := strings.Count(m1.in.called(), "journal"); calls != 2 {
		t.Errorf("%d journals read, want 2: the refused one must not start one", calls)
	}
	// A follower gone frees its slot; a journal that does not follow
	// never needs one.
	wantStatus(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/journal?lines=1", nil), http.StatusOK)
	first()
	wantEnded(t, m1.in)
	deadline := time.Now().Add(5 * time.Second)
	for statusOf(t, m1.srv, path) == http.StatusTooManyRequests {
		if time.Now().After(deadline) {
			t.Fatal("the slot of a follower gone is never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// statusOf returns the status of GET path, without reading the answer.
func statusOf(t *testing.T, srv *httptest.Server, path string) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// A followed journal streams past the server's write timeout, which still
// cuts an ordinary answer that takes longer.
func TestFollowIsExemptFromTheWriteTimeout(t *testing.T) {
	in := tickInspector{newFakeInspector("m1")}
	in.slow = time.Second
	l := api.Limits{ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond}
	srv := limitedServer(t, in, l, api.Options{})
	resp, err := srv.Client().Get(srv.URL + "/fleet/v1/units/hello.service/journal?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	start := time.Now()
	for n := 0; time.Since(start) < time.Second; n++ {
		if line, err := rd.ReadString('\n'); err != nil {
			t.Fatalf("the stream ended after %v and %d lines: %q, %v", time.Since(start), n, line, err)
		}
	}
	if _, err := io.ReadAll(getBody(t, srv, "/fleet/v1/units/hello.service/status")); err == nil {
		t.Error("a status answer slower than the write timeout was sent whole")
	}
}

func getBody(t *testing.T, srv *httptest.Server, path string) io.Reader {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		return errReader{err}
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp.Body
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestAFollowerThatDoesNotReadIsCut(t *testing.T) {
	in := floodInspector{newFakeInspector("m1"), make(chan error, 1)}
	srv := limitedServer(t, in, api.Limits{}, api.Options{StreamIdle: 200 * time.Millisecond})
	resp, err := srv.Client().Get(srv.URL + "/fleet/v1/units/hello.service/journal?follow=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // read nothing
	select {
	case err := <-in.ended:
		if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "timeout") {
			t.Errorf("the stream ended with %v, want a write timeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a follower that reads nothing holds its stream")
	}
}

func TestRequestHeadersAreBounded(t *testing.T) {
	srv := limitedServer(t, nil, api.Limits{MaxHeaderBytes: 4 << 10}, api.Options{})
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/fleet/v1/units", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("p", 16<<10))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a 16 KiB header: %s, want 431", resp.Status)
	}
}

// A client that sends half a request and waits is dropped.
func TestASlowRequestIsDropped(t *testing.T) {
	srv := limitedServer(t, nil, api.Limits{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond}, api.Options{})
	for _, partial := range []string{
		"GET /fleet/v1/units HTTP/1.1\r\nHost: x\r\n",
		"PUT /fleet/v1/units/a.service HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
	} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, partial); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || time.Since(start) > 3*time.Second {
			t.Fatalf("%q: the connection stayed open %v", partial, time.Since(start))
		}
	}
}

// A followed journal silent for longer than its idle limit is not cut:
// the limit bounds a write, not the wait for the next entry, and the
// trailer still goes out when the stream ends.
func TestASilentFollowIsNotCut(t *testing.T) {
	f := newFixture(t, api.Options{})
	stopping := make(chan struct{})
	m1 := f.machine("m1", true, api.Options{Stopping: stopping, StreamIdle: 100 * time.Millisecond})
	f.schedule("hello.service", "m1")
	_, rd, resp := follow(t, m1.srv, "/fleet/v1/units/hello.service/journal?lines=1&follow=true")
	time.Sleep(400 * time.Millisecond)
	close(stopping)
	if rest, err := io.ReadAll(rd); err != nil || len(rest) != 0 {
		t.Fatalf("after a silence and stopping: %q, %v", rest, err)
	}
	if tr := resp.Trailer.Get(api.ErrorTrailer); !strings.Contains(tr, "stopping") {
		t.Errorf("trailer %q, want the server stopping", tr)
	}
}
