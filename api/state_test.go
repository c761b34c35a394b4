package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
)

// stateNames lists "unit/machine" of each state of a page.
func stateNames(t *testing.T, f *fixture, path string) (string, api.StatePage) {
	t.Helper()
	a := f.get(path)
	wantStatus(t, a, http.StatusOK)
	var page api.StatePage
	decode(t, a, &page)
	if page.States == nil {
		t.Errorf("%s: states is null, want a list", path)
	}
	var out []string
	for _, s := range page.States {
		out = append(out, s.Name+"/"+s.MachineID)
	}
	return strings.Join(out, " "), page
}

func TestStates(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.report("web@1.service", "m2", "loaded", "active", "running")
	f.report("web@1.service", "m1", "loaded", "inactive", "dead")
	f.report("db.service", "m2", "loaded", "active", "running")
	// Key order in etcd would put this after web@1.service's states.
	f.report("web@1.service-x.service", "m1", "loaded", "active", "running")

	tests := []struct{ path, want string }{
		{"/fleet/v1/state", "db.service/m2 web@1.service/m1 web@1.service/m2 web@1.service-x.service/m1"},
		{"/fleet/v1/state?alt=json&machineID=m2", "db.service/m2 web@1.service/m2"},
		{"/fleet/v1/state?unitName=web%401.service", "web@1.service/m1 web@1.service/m2"},
		{"/fleet/v1/state?unitName=web@1.service&machineID=m2", "web@1.service/m2"},
		{"/fleet/v1/state?machineID=m9", ""},
		{"/fleet/v1/state/web%401.service", "web@1.service/m1 web@1.service/m2"},
		{"/fleet/v1/state/web@1.service?machineID=m1", "web@1.service/m1"},
		// A unit nobody reports still answers, with no states.
		{"/fleet/v1/state/nope.service", ""},
	}
	for _, tt := range tests {
		if got, _ := stateNames(t, f, tt.path); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.path, got, tt.want)
		}
	}
	_, page := stateNames(t, f, "/fleet/v1/state/web@1.service?machineID=m2")
	want := api.UnitState{Name: "web@1.service", Hash: "h-web@1.service", MachineID: "m2", SystemdLoadState: "loaded", SystemdActiveState: "active", SystemdSubState: "running"}
	if len(page.States) != 1 || page.States[0] != want {
		t.Errorf("state %+v, want %+v", page.States, want)
	}
	wantError(t, f.get("/fleet/v1/state?unitName=x"), http.StatusBadRequest, "unitName")
	wantError(t, f.get("/fleet/v1/state/x"), http.StatusBadRequest, "must end in")
}

func TestStatesPageByPage(t *testing.T) {
	f := newFixture(t, api.Options{PageSize: 2})
	for _, m := range []string{"m1", "m2", "m3"} {
		f.report("a.service", m, "loaded", "active", "running")
		f.report("b.service", m, "loaded", "active", "running")
	}
	var all []string
	path := "/fleet/v1/state"
	for range 10 {
		got, page := stateNames(t, f, path)
		all = append(all, got)
		if page.NextPageToken == "" {
			break
		}
		path = "/fleet/v1/state?nextPageToken=" + page.NextPageToken
	}
	want := []string{"a.service/m1 a.service/m2", "a.service/m3 b.service/m1", "b.service/m2 b.service/m3"}
	if strings.Join(all, "|") != strings.Join(want, "|") {
		t.Errorf("pages %q, want %q", all, want)
	}
}

// The agent's word on a unit's trouble reaches API clients with its state.
func TestStateCarriesTheAgentsReason(t *testing.T) {
	f := newFixture(t, api.Options{})
	s := registry.UnitState{Unit: "stuck.service", Machine: "m1", Hash: "h", LoadState: "loaded",
		ActiveState: "activating", SubState: "start", Reason: "start job not done after 2m0s"}
	if err := f.reg.PublishState(f.ctx, s, f.lease()); err != nil {
		t.Fatal(err)
	}
	_, page := stateNames(t, f, "/fleet/v1/state/stuck.service")
	if len(page.States) != 1 || page.States[0].Reason != s.Reason {
		t.Fatalf("states %+v, want the reason %q", page.States, s.Reason)
	}
}
