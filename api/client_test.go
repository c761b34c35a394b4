package api_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

func TestNewClientEndpoints(t *testing.T) {
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:49153", true},
		{"http://fleet.example:49153/prefix/", true},
		{"https://fleet.example", true},
		{"unix:///var/run/fleet.sock", true},
		{"unix://relative.sock", true},
		{"unix://", false},
		{"http://", false},
		{"ftp://host", false},
		{"127.0.0.1:49153", false},
		{"http://host/?q=1", false},
		{"http://user:pw@host", false},
		{"http://[::1", false},
	}
	for _, tt := range tests {
		_, err := api.NewClient(tt.endpoint, nil)
		if (err == nil) != tt.ok {
			t.Errorf("NewClient(%q): %v, want ok=%v", tt.endpoint, err, tt.ok)
		}
	}
	odd := &http.Client{Transport: roundTripFunc(nil)}
	if _, err := api.NewClient("unix:///x.sock", odd); err == nil {
		t.Error("a unix endpoint over a transport it cannot dial through was accepted")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// exercise runs the whole client against a fixture's server.
func exercise(t *testing.T, f *fixture, c *api.Client) {
	t.Helper()
	ctx := context.Background()
	uf, err := unit.ParseString(helloBody)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		u := &api.Unit{Name: fmt.Sprintf("web@%d.service", i), Options: uf.Options, DesiredState: "loaded"}
		if err := c.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	units, err := c.Units(ctx)
	if err != nil || len(units) != 5 || units[4].Name != "web@4.service" || units[0].DesiredState != "loaded" {
		t.Fatalf("Units: %+v, %v", units, err)
	}
	if err := c.SetUnitTargetState(ctx, "web@2.service", "launched"); err != nil {
		t.Fatal(err)
	}
	u, err := c.Unit(ctx, "web@2.service")
	if err != nil || u.DesiredState != "launched" || u.CurrentState != "inactive" || len(u.Options) != len(uf.Options) {
		t.Fatalf("Unit: %+v, %v", u, err)
	}
	if err := c.DestroyUnit(ctx, "web@2.service"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unit(ctx, "web@2.service"); !api.IsNotFound(err) {
		t.Fatalf("Unit after destroy: %v, want a 404", err)
	}
	exerciseMachines(t, f, c)
}

// exerciseMachines runs the client's machine and state calls.
func exerciseMachines(t *testing.T, f *fixture, c *api.Client) {
	t.Helper()
	ctx := context.Background()
	f.addMachine("m1", "10.0.0.1", nil)
	f.addMachine("m2", "10.0.0.2", nil)
	f.addMachine("m3", "10.0.0.3", nil)
	if err := c.SetMachineMetadata(ctx, "m2", "disk", "ssd"); err != nil {
		t.Fatal(err)
	}
	ms, err := c.Machines(ctx)
	if err != nil || len(ms) != 3 || ms[1].Metadata["disk"] != "ssd" || ms[2].PrimaryIP != "10.0.0.3" {
		t.Fatalf("Machines: %+v, %v", ms, err)
	}
	if err := c.DeleteMachineMetadata(ctx, "m2", "disk"); err != nil {
		t.Fatal(err)
	}
	if ms, _ = c.Machines(ctx); len(ms[1].Metadata) != 0 {
		t.Fatalf("metadata after delete: %v", ms[1].Metadata)
	}
	for _, m := range []string{"m1", "m2", "m3"} {
		f.report("web@1.service", m, "loaded", "active", "running")
	}
	f.report("web@3.service", "m2", "loaded", "active", "running")
	states, err := c.UnitStates(ctx, api.StateFilter{UnitName: "web@1.service"})
	if err != nil || len(states) != 3 || states[2].MachineID != "m3" {
		t.Fatalf("UnitStates of web@1: %+v, %v", states, err)
	}
	states, err = c.UnitStates(ctx, api.StateFilter{MachineID: "m2"})
	if err != nil || len(states) != 2 || states[1].Name != "web@3.service" {
		t.Fatalf("UnitStates on m2: %+v, %v", states, err)
	}
	if states, err = c.UnitStates(ctx, api.StateFilter{}); err != nil || len(states) != 4 {
		t.Fatalf("UnitStates: %+v, %v", states, err)
	}
}

func TestClientOverTCP(t *testing.T) {
	// Pages of two, so that every listing takes several requests.
	f := newFixture(t, api.Options{PageSize: 2})
	c, err := api.NewClient(f.srv.URL, f.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, f, c)
}

func TestClientOverUnixSocket(t *testing.T) {
	f := newFixture(t, api.Options{PageSize: 2})
	sock := filepath.Join(t.TempDir(), "fleet.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(f.srv.Config.Handler)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	c, err := api.NewClient("unix://"+sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, f, c)
}

func TestClientErrorsAreTyped(t *testing.T) {
	f := newFixture(t, api.Options{})
	c, err := api.NewClient(f.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f.submit("hello.service", helloBody, unit.StateInactive)
	err = c.CreateUnit(ctx, &api.Unit{Name: "hello.service", Options: []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/true"}}, DesiredState: "launched"})
	var e *api.Error
	if !errors.As(err, &e) || e.Code != http.StatusConflict || !strings.Contains(e.Message, "other content") || !api.IsConflict(err) {
		t.Fatalf("create over another unit: %v", err)
	}
	err = c.SetUnitTargetState(ctx, "hello.service", "running")
	if !errors.As(err, &e) || e.Code != http.StatusBadRequest || !strings.Contains(e.Message, "running") {
		t.Fatalf("unknown state: %v", err)
	}
	err = c.SetMachineMetadata(ctx, "nope", "k", "v")
	if !errors.As(err, &e) || e.Code != http.StatusBadRequest {
		t.Fatalf("metadata of an unknown machine: %v", err)
	}
	if err := c.DestroyUnit(ctx, "nope.service"); !api.IsNotFound(err) {
		t.Fatalf("destroy a unit that is not there: %v", err)
	}
}

func TestClientOnForeignAnswers(t *testing.T) {
	var repeat atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("alt") != "json" {
			t.Errorf("request without alt=json: %s", r.URL)
		}
		if repeat.Load() {
			fmt.Fprint(w, `{"units":[],"nextPageToken":"same"}`)
			return
		}
		http.Error(w, "upstream down", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c, err := api.NewClient(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Units(context.Background())
	var e *api.Error
	if !errors.As(err, &e) || e.Code != http.StatusBadGateway || e.Message != "upstream down" {
		t.Fatalf("plain-text 502: %v", err)
	}
	repeat.Store(true)
	if _, err := c.Units(context.Background()); err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Fatalf("a server repeating its page token: %v", err)
	}
}

func TestClientEscapesAt(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.EscapedPath())
		http.Error(w, `{"error":{"code":404,"message":"no"}}`, http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c, err := api.NewClient(srv.URL+"/base/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unit(context.Background(), "web@1.service"); !api.IsNotFound(err) {
		t.Fatalf("Unit: %v", err)
	}
	if p, _ := got.Load().(string); p != "/base/fleet/v1/units/web%401.service" {
		t.Errorf("path %q", p)
	}
}
