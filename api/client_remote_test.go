package api_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
)

func TestClientStatusAndJournal(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	m2 := f.machine("m2", true, api.Options{})
	f.schedule("hello.service", "m2")
	f.schedule("web.service", "m1")
	c, err := api.NewClient(m1.srv.URL, &http.Client{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := c.Status(ctx, "hello.service", "m2")
	if err != nil || !strings.HasPrefix(st, "● hello.service - on m2\n") {
		t.Fatalf("Status: %q, %v", st, err)
	}
	if _, err := c.Status(ctx, "hello.service", "m1"); !api.IsNotFound(err) {
		t.Errorf("Status on the wrong machine: %v", err)
	}
	var b strings.Builder
	if err := c.Journal(ctx, "web@x.service", "", api.JournalOptions{Lines: 0}, &b); !api.IsNotFound(err) {
		t.Errorf("Journal of a unit nowhere: %v", err)
	}
	// A journal that fails half-way: the lines so far, then the error.
	m2.in.journalErr = errors.New("journalctl: disk on fire")
	err = c.Journal(ctx, "hello.service", "m2", api.JournalOptions{Lines: 2}, &b)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != http.StatusInternalServerError || !strings.Contains(ae.Message, "disk on fire") {
		t.Errorf("Journal cut short: %v", err)
	}
	if b.String() != "m2 hello.service: line 1\nm2 hello.service: line 2\n" {
		t.Errorf("Journal cut short wrote %q", b.String())
	}
}

func TestClientTimeoutBoundsTheWaitNotTheStream(t *testing.T) {
	f := newFixture(t, api.Options{})
	m1 := f.machine("m1", true, api.Options{})
	f.schedule("hello.service", "m1")
	c, err := api.NewClient(m1.srv.URL, &http.Client{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m1.in.slow = time.Second
	if _, err := c.Status(context.Background(), "hello.service", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a slow status: %v, want a deadline error", err)
	}
	// A followed journal outlives the timeout, until ctx ends.
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- c.Journal(ctx, "hello.service", "m1", api.JournalOptions{Lines: 1, Follow: true}, pw)
		pw.Close()
	}()
	rd := bufio.NewReader(pr)
	time.Sleep(300 * time.Millisecond)
	for range 2 {
		if _, err := rd.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	go io.Copy(io.Discard, rd)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Journal after cancel: %v", err)
	}
	wantEnded(t, m1.in)
}
