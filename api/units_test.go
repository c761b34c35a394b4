package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// currentStates maps each listed unit to "currentState@machineID".
func currentStates(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	a := f.get("/fleet/v1/units?alt=json")
	wantStatus(t, a, http.StatusOK)
	var page api.UnitPage
	decode(t, a, &page)
	out := map[string]string{}
	for i, u := range page.Units {
		if i > 0 && page.Units[i-1].Name >= u.Name {
			t.Errorf("units not sorted: %s after %s", u.Name, page.Units[i-1].Name)
		}
		out[u.Name] = u.CurrentState + "@" + u.MachineID
	}
	return out
}

func TestUnitsShowWhereAndHowFarEachUnitIs(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.addMachine("m1", "10.0.0.1", nil)
	f.addMachine("m2", "10.0.0.2", nil)
	for _, n := range []string{"running.service", "loaded.service", "failed.service", "placed.service", "idle.service"} {
		f.submit(n, helloBody, unit.StateLaunched)
	}
	f.submit("everywhere.service", helloBody+"\n[X-Fleet]\nGlobal=true\n", unit.StateLaunched)
	f.submit("partly.service", helloBody+"\n[X-Fleet]\nGlobal=true\n", unit.StateLaunched)
	f.schedule("running.service", "m2")
	f.report("running.service", "m2", "loaded", "active", "running")
	f.schedule("loaded.service", "m1")
	f.report("loaded.service", "m1", "loaded", "inactive", "dead")
	f.schedule("failed.service", "m1")
	f.report("failed.service", "m1", "not-found", "failed", "failed")
	f.schedule("placed.service", "m2") // scheduled, nothing reported yet
	for _, m := range []string{"m1", "m2"} {
		f.schedule("everywhere.service", m)
		f.report("everywhere.service", m, "loaded", "active", "running")
		f.schedule("partly.service", m)
	}
	f.report("partly.service", "m1", "loaded", "active", "running")
	f.report("partly.service", "m2", "loaded", "inactive", "dead")

	want := map[string]string{
		"running.service":    "launched@m2",
		"loaded.service":     "loaded@m1",
		"failed.service":     "inactive@m1",
		"placed.service":     "inactive@m2",
		"idle.service":       "inactive@",
		"everywhere.service": "launched@", // global: no single machine
		"partly.service":     "loaded@",   // global: as far as its slowest machine
	}
	got := currentStates(t, f)
	if len(got) != len(want) {
		t.Fatalf("got %d units %v, want %d", len(got), got, len(want))
	}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("%s: %s, want %s", n, got[n], w)
		}
	}
}

func TestUnitsPageByPage(t *testing.T) {
	f := newFixture(t, api.Options{})
	a := f.get("/fleet/v1/units")
	wantStatus(t, a, http.StatusOK)
	if got := strings.TrimSpace(string(a.body)); got != `{"units":[]}` {
		t.Errorf("empty listing: %s", got)
	}
	for i := 7; i > 0; i-- {
		f.submit(fmt.Sprintf("u%d.service", i), helloBody, unit.StateInactive)
	}
	var names []string
	token := ""
	for pages := 1; ; pages++ {
		a := f.get("/fleet/v1/units?pageSize=3&nextPageToken=" + token)
		wantStatus(t, a, http.StatusOK)
		var page api.UnitPage
		decode(t, a, &page)
		for _, u := range page.Units {
			names = append(names, u.Name)
		}
		if token = page.NextPageToken; token == "" {
			if pages != 3 {
				t.Errorf("%d pages of 3 for 7 units", pages)
			}
			break
		}
	}
	if got := strings.Join(names, " "); got != "u1.service u2.service u3.service u4.service u5.service u6.service u7.service" {
		t.Errorf("pages held %s", got)
	}
}

func TestUnitsRefuseBadPaging(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.submit("a.service", helloBody, unit.StateInactive)
	f.submit("b.service", helloBody, unit.StateInactive)
	a := f.get("/fleet/v1/units?pageSize=1")
	var page api.UnitPage
	decode(t, a, &page)
	if page.NextPageToken == "" {
		t.Fatal("no token after the first of two pages")
	}
	for _, q := range []string{"pageSize=0", "pageSize=-1", "pageSize=x", "pageSize=1001", "nextPageToken=%25%25%25", "nextPageToken=bm9wZQ"} {
		wantError(t, f.get("/fleet/v1/units?"+q), http.StatusBadRequest)
	}
	// A token of another listing is refused, and a units token elsewhere.
	wantError(t, f.get("/fleet/v1/state?nextPageToken="+page.NextPageToken), http.StatusBadRequest, "nextPageToken")
	wantError(t, f.get("/fleet/v1/machines?nextPageToken="+page.NextPageToken), http.StatusBadRequest, "nextPageToken")
}

func TestGetUnit(t *testing.T) {
	f := newFixture(t, api.Options{})
	uf := f.submit("web@1.service", helloBody, unit.StateLoaded)
	for _, path := range []string{"/fleet/v1/units/web@1.service", "/fleet/v1/units/web%401.service?alt=json"} {
		a := f.get(path)
		wantStatus(t, a, http.StatusOK)
		var u api.Unit
		decode(t, a, &u)
		if u.Name != "web@1.service" || u.DesiredState != "loaded" || u.CurrentState != "inactive" || u.MachineID != "" {
			t.Errorf("%s: %+v", path, u)
		}
		if got, _ := unit.NewFile(u.Options); got.Hash() != uf.Hash() {
			t.Errorf("%s: options %v, want those of the stored file", path, u.Options)
		}
	}
	wantError(t, f.get("/fleet/v1/units/nope.service"), http.StatusNotFound, "nope.service")
	wantError(t, f.get("/fleet/v1/units/nope"), http.StatusBadRequest, "must end in")
	wantError(t, f.get("/fleet/v1/units/a%2Fb.service"), http.StatusBadRequest, "'/'")
}

func TestDeleteUnit(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.submit("web@1.service", helloBody, unit.StateLaunched)
	before := f.snapshot()
	wantError(t, f.do(http.MethodDelete, "/fleet/v1/units/other.service", "", ""), http.StatusNotFound, "other.service")
	wantError(t, f.do(http.MethodDelete, "/fleet/v1/units/@x.service", "", ""), http.StatusBadRequest, "'@'")
	f.unchanged(t, before)
	a := f.do(http.MethodDelete, "/fleet/v1/units/web%401.service", "", "")
	wantStatus(t, a, http.StatusNoContent)
	if len(a.body) != 0 {
		t.Errorf("204 with a body: %s", a.body)
	}
	wantError(t, f.get("/fleet/v1/units/web@1.service"), http.StatusNotFound)
	wantError(t, f.do(http.MethodDelete, "/fleet/v1/units/web@1.service", "", ""), http.StatusNotFound)
}
