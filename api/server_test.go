package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

func TestServerHeaderOnEveryAnswer(t *testing.T) {
	f := newFixture(t, api.Options{Version: "1.2.3"})
	for _, a := range []answer{
		f.get("/fleet/v1/units"),
		f.get("/fleet/v1/units/nope.service"),
		f.get("/nowhere"),
		f.get("/healthz"),
		f.do(http.MethodPost, "/fleet/v1/units", "", ""),
	} {
		if got := a.Header.Get("Server"); got != "fleetd/1.2.3" {
			t.Errorf("%s: Server %q", a.Request.URL.Path, got)
		}
	}
}

func TestNotReadyUntilTheMachineIsRegistered(t *testing.T) {
	var ready atomic.Bool
	f := newFixture(t, api.Options{Ready: ready.Load})
	wantError(t, f.get("/fleet/v1/units"), http.StatusServiceUnavailable, "not registered")
	wantError(t, f.get("/healthz"), http.StatusServiceUnavailable)
	before := f.snapshot()
	a := f.put("hello.service", `{"options":`+optionsJSON(t, helloBody)+`}`)
	wantError(t, a, http.StatusServiceUnavailable)
	if a.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	f.unchanged(t, before)
	ready.Store(true)
	a = f.get("/healthz")
	wantStatus(t, a, http.StatusOK)
	if string(a.body) != "ok\n" {
		t.Errorf("healthz said %q", a.body)
	}
	wantStatus(t, f.get("/fleet/v1/units"), http.StatusOK)
}

func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t, api.Options{})
	tests := []struct{ method, path, allow string }{
		{http.MethodPost, "/fleet/v1/units", "GET, HEAD"},
		{http.MethodPost, "/fleet/v1/units/a.service", "GET, HEAD, PUT, DELETE"},
		{http.MethodDelete, "/fleet/v1/machines", "GET, HEAD, PATCH"},
		{http.MethodPut, "/fleet/v1/state", "GET, HEAD"},
		{http.MethodDelete, "/fleet/v1/state/a.service", "GET, HEAD"},
		{http.MethodPost, "/fleet/v1/discovery", "GET, HEAD"},
		{http.MethodPost, "/healthz", "GET, HEAD"},
	}
	for _, tt := range tests {
		a := f.do(tt.method, tt.path, "application/json", "{}")
		wantError(t, a, http.StatusMethodNotAllowed, tt.method)
		if got := a.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}

func TestUnknownPathsAndAlt(t *testing.T) {
	f := newFixture(t, api.Options{})
	wantError(t, f.get("/fleet/v1/nothing"), http.StatusNotFound, "/fleet/v1/nothing")
	wantError(t, f.get("/fleet/v1/units/"), http.StatusNotFound)
	wantError(t, f.get("/fleet/v2/units"), http.StatusNotFound)
	wantStatus(t, f.get("/fleet/v1/units?alt=json"), http.StatusOK)
	wantError(t, f.get("/fleet/v1/units?alt=media"), http.StatusBadRequest, "alt=media")
	a := f.do(http.MethodHead, "/fleet/v1/units", "", "")
	wantStatus(t, a, http.StatusOK)
	if len(a.body) != 0 {
		t.Errorf("HEAD answered a body: %s", a.body)
	}
}

func TestDiscovery(t *testing.T) {
	f := newFixture(t, api.Options{})
	a := f.get("/fleet/v1/discovery?alt=json")
	wantStatus(t, a, http.StatusOK)
	var d api.Discovery
	decode(t, a, &d)
	if d.ID != "fleet:v1" || d.BasePath != "/fleet/v1/" {
		t.Errorf("discovery %+v", d)
	}
	set := d.Resources["Units"].Methods["Set"]
	if set.HTTPMethod != http.MethodPut || set.Path != "units/{name}" {
		t.Errorf("Units.Set = %+v", set)
	}
	for _, res := range []string{"Units", "Machines", "UnitState", "Discovery"} {
		if len(d.Resources[res].Methods) == 0 {
			t.Errorf("no methods for %s", res)
		}
	}
}

// brokenBackend fails every read of the schedule.
type brokenBackend struct{ *registry.Etcd }

var errBroken = errors.New("etcd on fire")

func (brokenBackend) Schedule(context.Context) ([]registry.Placement, error) { return nil, errBroken }

func TestBackendFailuresAreAnsweredAndReported(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.submit("hello.service", helloBody, unit.StateInactive)
	var (
		mu       sync.Mutex
		reported []error
	)
	h := api.NewServer(brokenBackend{f.reg}, api.Options{OnError: func(_ *http.Request, err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err)
	}})
	for _, path := range []string{"/fleet/v1/units", "/fleet/v1/units/hello.service"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "etcd on fire") {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 2 || !errors.Is(reported[0], errBroken) {
		t.Errorf("reported %v", reported)
	}
}
