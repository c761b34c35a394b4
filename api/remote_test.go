package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
)

// fakeInspector is one machine's systemd and journal: a status naming
// the unit and the machine, journal lines counted from 1.
type fakeInspector struct {
	machine    string
	journalErr error         // returned once the lines are written
	slow       time.Duration // Status takes this long
	ended      chan error    // a followed journal's end, with ctx's error

	mu    sync.Mutex
	calls []string
}

func newFakeInspector(machine string) *fakeInspector {
	return &fakeInspector{machine: machine, ended: make(chan error, 10)}
}

func (f *fakeInspector) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeInspector) called() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, "; ")
}

func (f *fakeInspector) Status(ctx context.Context, name string) (string, error) {
	f.record("status " + name)
	select {
	case <-time.After(f.slow):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return fmt.Sprintf("● %s - on %s\n   Active: active (running)\n", name, f.machine), nil
}

func (f *fakeInspector) Journal(ctx context.Context, name string, o api.JournalOptions, w io.Writer) error {
	f.record(fmt.Sprintf("journal %s lines=%d follow=%v output=%s", name, o.Lines, o.Follow, o.Output))
	for i := range o.Lines {
		if _, err := fmt.Fprintf(w, "%s %s: line %d\n", f.machine, name, i+1); err != nil {
			return err
		}
	}
	if f.journalErr != nil || !o.Follow {
		return f.journalErr
	}
	if _, err := fmt.Fprintf(w, "%s %s: following\n", f.machine, name); err != nil {
		return err
	}
	<-ctx.Done()
	f.ended <- ctx.Err()
	return ctx.Err()
}

// machineServer is one machine's fleetd API over the fixture's registry.
type machineServer struct {
	id        string
	in        *fakeInspector
	srv       *httptest.Server
	requests  atomic.Int64
	forwarded atomic.Value // the last ForwardedHeader received
}

// machine registers machine id, serving the API with a fake inspector;
// published says whether its record holds the API's URL.
func (f *fixture) machine(id string, published bool, opts api.Options) *machineServer {
	f.t.Helper()
	m := &machineServer{id: id, in: newFakeInspector(id)}
	opts.MachineID, opts.Inspector = id, m.in
	h := api.NewServer(f.reg, opts)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.requests.Add(1)
		m.forwarded.Store(r.Header.Get(api.ForwardedHeader))
		h.ServeHTTP(w, r)
	}))
	f.t.Cleanup(m.srv.Close)
	rec := registry.Machine{ID: id, PublicIP: "10.0.0." + id[1:]}
	if published {
		rec.APIURL = m.srv.URL
	}
	if err := f.reg.RegisterMachine(f.ctx, rec, f.lease()); err != nil {
		f.t.Fatal(err)
	}
	return m
}

// getText sends GET path to srv with header h, and reads the answer.
func getText(t *testing.T, srv *httptest.Server, path string, h http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp, b}
}

// wantText fails unless a is a 200 plain-text answer of want.
func wantText(t *testing.T, a answer, want string) {
	t.Helper()
	wantStatus(t, a, http.StatusOK)
	if ct := a.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if string(a.body) != want {
		t.Errorf("body %q, want %q", a.body, want)
	}
}

func TestStatusAndJournalServedLocally(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	f.schedule("hello.service", "m1")
	f.schedule("web@1.service", "m1")
	status := "● hello.service - on m1\n   Active: active (running)\n"
	wantText(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/status?machineID=m1", nil), status)
	// A unit on one machine needs no machineID.
	wantText(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/status", nil), status)
	wantText(t, getText(t, m1.srv, "/fleet/v1/units/web%401.service/journal?machineID=m1&lines=2&output=cat", nil),
		"m1 web@1.service: line 1\nm1 web@1.service: line 2\n")
	a := getText(t, m1.srv, "/fleet/v1/units/hello.service/journal?alt=json", nil)
	if n := strings.Count(string(a.body), "\n"); n != api.DefaultJournalLines {
		t.Errorf("journal without lines: %d lines, want %d", n, api.DefaultJournalLines)
	}
	want := "status hello.service; status hello.service; journal web@1.service lines=2 follow=false output=cat; journal hello.service lines=10 follow=false output="
	if got := m1.in.called(); got != want {
		t.Errorf("inspector calls:\n%s\nwant\n%s", got, want)
	}
}

func TestStatusAndJournalRefuseBadRequests(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	f.machine("m2", true, api.Options{})
	f.schedule("hello.service", "m1")
	f.schedule("everywhere.service", "m1")
	f.schedule("everywhere.service", "m2")
	for _, tt := range []struct {
		path  string
		code  int
		words []string
	}{
		{"/fleet/v1/units/hello/status?machineID=m1", http.StatusBadRequest, []string{"hello"}},
		{"/fleet/v1/units/a;rm%20-rf.service/journal?machineID=m1", http.StatusBadRequest, []string{"rm -rf"}},
		{"/fleet/v1/units/hello.service/status?machineID=m2", http.StatusNotFound, []string{"hello.service", "m2"}},
		{"/fleet/v1/units/nope.service/journal?machineID=m1", http.StatusNotFound, []string{"nope.service", "m1"}},
		{"/fleet/v1/units/nope.service/status", http.StatusNotFound, []string{"nope.service", "any machine"}},
		{"/fleet/v1/units/everywhere.service/status", http.StatusBadRequest, []string{"2 machines", "machineID"}},
		{"/fleet/v1/units/hello.service/journal?lines=-1", http.StatusBadRequest, []string{"lines=-1"}},
		{"/fleet/v1/units/hello.service/journal?lines=ten", http.StatusBadRequest, []string{"lines=ten"}},
		{"/fleet/v1/units/hello.service/journal?follow=maybe", http.StatusBadRequest, []string{"follow=maybe"}},
		{"/fleet/v1/units/hello.service/journal?output=html", http.StatusBadRequest, []string{"output=html", "short-iso"}},
	} {
		wantError(t, getText(t, m1.srv, tt.path, nil), tt.code, tt.words...)
	}
	if got := m1.in.called(); got != "" {
		t.Errorf("refused requests reached the inspector: %s", got)
	}
}

func TestStatusWithoutInspector(t *testing.T) {
	f := newFixture(t, api.Options{MachineID: "m1"})
	f.schedule("hello.service", "m1")
	wantError(t, f.get("/fleet/v1/units/hello.service/status?machineID=m1"), http.StatusNotImplemented, "m1", "inspector")
}

func TestStatusAndJournalAreForwarded(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	m2 := f.machine("m2", true, api.Options{})
	f.schedule("hello.service", "m2")
	wantText(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/status?machineID=m2", nil),
		"● hello.service - on m2\n   Active: active (running)\n")
	if by := m2.forwarded.Load(); by != "m1" {
		t.Errorf("the forwarded request says %s=%q, want m1", api.ForwardedHeader, by)
	}
	wantText(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/journal?lines=1", nil), "m2 hello.service: line 1\n")
	wantText(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/journal?machineID=m2&lines=1&output=short-iso", nil), "m2 hello.service: line 1\n")
	if got := m1.in.called(); got != "" {
		t.Errorf("m1 read its own systemd: %s", got)
	}
	if got, want := m2.in.called(), "status hello.service; journal hello.service lines=1 follow=false output=; journal hello.service lines=1 follow=false output=short-iso"; got != want {
		t.Errorf("m2's inspector calls %q, want %q", got, want)
	}
}

func TestForwardedRefusalsComeBackAsTheyAre(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	blind := httptest.NewServer(api.NewServer(f.reg, api.Options{MachineID: "m2"})) // no inspector
	t.Cleanup(blind.Close)
	if err := f.reg.RegisterMachine(f.ctx, registry.Machine{ID: "m2", APIURL: blind.URL}, f.lease()); err != nil {
		t.Fatal(err)
	}
	f.schedule("hello.service", "m2")
	wantError(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/status", nil), http.StatusNotImplemented, "machine m2", "inspector")
}

func TestForwardedOnceOnly(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	m2 := f.machine("m2", true, api.Options{})
	f.schedule("hello.service", "m2")
	// A request already forwarded is answered for this machine only.
	h := http.Header{api.ForwardedHeader: {"m3"}}
	wantError(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/status?machineID=m2", h),
		http.StatusMisdirectedRequest, "m2", "m3", "forwarded once")
	if n := m2.requests.Load(); n != 0 {
		t.Errorf("m2 got %d requests", n)
	}
	// A stale record that points m3 at m1's own API: m1 forwards to
	// itself once, then refuses.
	if err := f.reg.RegisterMachine(f.ctx, registry.Machine{ID: "m3", APIURL: m1.srv.URL}, f.lease()); err != nil {
		t.Fatal(err)
	}
	f.schedule("db.service", "m3")
	before := m1.requests.Load()
	wantError(t, getText(t, m1.srv, "/fleet/v1/units/db.service/status?machineID=m3", nil),
		http.StatusMisdirectedRequest, "m3", "forwarded by m1", `"m1"`)
	if n := m1.requests.Load() - before; n != 2 {
		t.Errorf("m1 got %d requests, want 2 (the client's and its own forward)", n)
	}
}

func TestForwardingToUnreachableMachines(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	f.machine("m2", false, api.Options{}) // listens on a unix socket only
	gone := f.machine("m3", true, api.Options{})
	gone.srv.Close()
	for _, m := range []string{"m2", "m3", "m4"} {
		f.schedule("hello.service", m)
	}
	wantError(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/status?machineID=m2", nil),
		http.StatusServiceUnavailable, "machine m2", "no http:// API")
	wantError(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/journal?machineID=m3", nil),
		http.StatusBadGateway, "machine m3", gone.srv.URL)
	wantError(t, getText(t, m1.srv, "/fleet/v1/units/hello.service/status?machineID=m4", nil),
		http.StatusServiceUnavailable, "machine m4", "not in the cluster")
}

// follow opens a followed journal through srv, reads its first line and
// the "following" line, and returns the cancel of its request.
func follow(t *testing.T, srv *httptest.Server, path string) (context.CancelFunc, *bufio.Reader, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s", path, resp.Status)
	}
	rd := bufio.NewReader(resp.Body)
	for _, want := range []string{"line 1\n", "following\n"} {
		line, err := rd.ReadString('\n')
		if err != nil || !strings.HasSuffix(line, want) {
			t.Fatalf("%s: read %q, %v; want a line ending %q", path, line, err, want)
		}
	}
	return cancel, rd, resp
}

// wantEnded waits for a followed journal of in to end.
func wantEnded(t *testing.T, in *fakeInspector) {
	t.Helper()
	select {
	case err := <-in.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the journal ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the followed journal goes on after its client went away")
	}
}

func TestFollowStreamsUntilTheClientGoes(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	m2 := f.machine("m2", true, api.Options{})
	f.schedule("hello.service", "m1")
	f.schedule("web.service", "m2")
	// Lines arrive while the journal is still open, here and forwarded.
	cancel, _, _ := follow(t, m1.srv, "/fleet/v1/units/hello.service/journal?lines=1&follow=true")
	cancel()
	wantEnded(t, m1.in)
	cancel, _, _ = follow(t, m1.srv, "/fleet/v1/units/web.service/journal?lines=1&follow=true")
	cancel()
	wantEnded(t, m2.in)
}

func TestFollowEndsWhenTheServerStops(t *testing.T) {
	f := newFixture(t, api.Options{})
	stopping := make(chan struct{})
	m1 := f.machine("m1", true, api.Options{Stopping: stopping})
	f.schedule("hello.service", "m1")
	_, rd, resp := follow(t, m1.srv, "/fleet/v1/units/hello.service/journal?lines=1&follow=true")
	close(stopping)
	if rest, err := io.ReadAll(rd); err != nil || len(rest) != 0 {
		t.Fatalf("after stopping: %q, %v", rest, err)
	}
	if tr := resp.Trailer.Get(api.ErrorTrailer); !strings.Contains(tr, "503") || !strings.Contains(tr, "stopping") {
		t.Errorf("trailer %q", tr)
	}
}

func TestStatesCarryPorts(t *testing.T) {
	f := newFixture(t, api.Options{})
	c := registry.Change{Placement: registry.Placement{Unit: "web@1.service", Machine: "m1", Port: 8080}}
	if _, err := f.reg.Commit(f.ctx, registry.Guard{}, []registry.Change{c}); err != nil {
		t.Fatal(err)
	}
	f.schedule("db.service", "m1")
	f.report("web@1.service", "m1", "loaded", "active", "running")
	f.report("db.service", "m1", "loaded", "active", "running")
	a := f.get("/fleet/v1/state")
	wantStatus(t, a, http.StatusOK)
	if !strings.Contains(string(a.body), `"systemdSubState":"running","port":8080}`) || strings.Count(string(a.body), `"port"`) != 1 {
		t.Errorf("states %s: want web@1's port 8080 and no other", a.body)
	}
}
