package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// putRaw writes a record straight into etcd, past the registry.
func (f *fixture) putRaw(key, value string) {
	f.t.Helper()
	if _, err := etcd.Put(f.ctx, f.prefix+key, value); err != nil {
		f.t.Fatal(err)
	}
}

// Records written as garbage straight into etcd make broken units, shown
// as such; every other unit, machine and state is answered as usual.
func TestCorruptRecordsAreShownAsBrokenUnits(t *testing.T) {
	f := newFixture(t, api.Options{})
	f.submit("good.service", helloBody, unit.StateLaunched)
	f.addMachine("m1", "10.0.0.1", nil)
	f.schedule("good.service", "m1")
	f.report("good.service", "m1", "loaded", "active", "running")
	lost := strings.Repeat("ab", 20)
	f.putRaw("job/bad.service", "{not json")
	f.putRaw("job/nobody.service", fmt.Sprintf(`{"hash":%q,"desiredState":"loaded"}`, lost))
	f.putRaw("job/garbled.service", fmt.Sprintf(`{"hash":%q,"desiredState":"launched"}`, strings.Repeat("cd", 20)))
	f.putRaw("unit/"+strings.Repeat("cd", 20), "\x00garbage")
	f.putRaw("machines/m9", "\xff")
	f.putRaw("state/good.service/m9", "[]")
	f.putRaw("schedule/m1/bad.service", "{")

	a := f.get("/fleet/v1/units")
	wantStatus(t, a, http.StatusOK)
	var page api.UnitPage
	decode(t, a, &page)
	got := map[string]api.Unit{}
	for _, u := range page.Units {
		got[u.Name] = u
	}
	if len(page.Units) != 4 {
		t.Fatalf("%d units listed, want 4: %+v", len(page.Units), page.Units)
	}
	if u := got["good.service"]; u.Error != "" || u.CurrentState != "launched" || u.MachineID != "m1" {
		t.Errorf("good.service = %+v", u)
	}
	for name, desired := range map[string]string{"bad.service": "", "nobody.service": "loaded", "garbled.service": "launched"} {
		u := got[name]
		if !strings.Contains(u.Error, "broken unit") || !strings.Contains(u.Error, "destroy it") || u.DesiredState != desired {
			t.Errorf("%s = %+v, want broken with desired state %q", name, u, desired)
		}
	}
	a = f.get("/fleet/v1/units/bad.service")
	wantStatus(t, a, http.StatusOK)
	var one api.Unit
	decode(t, a, &one)
	if !strings.Contains(one.Error, "corrupt record") {
		t.Errorf("GET bad.service = %+v", one)
	}
	wantError(t, f.put("bad.service", `{"desiredState":"launched"}`), http.StatusConflict, "broken", "destroy it")

	var machines api.MachinePage
	decode(t, f.get("/fleet/v1/machines"), &machines)
	if len(machines.Machines) != 1 {
		t.Errorf("machines = %+v", machines)
	}
	var states api.StatePage
	decode(t, f.get("/fleet/v1/state"), &states)
	if len(states.States) != 1 {
		t.Errorf("states = %+v", states)
	}
	wantStatus(t, f.do(http.MethodDelete, "/fleet/v1/units/bad.service", "", ""), http.StatusNoContent)
	wantStatus(t, f.get("/fleet/v1/units/bad.service"), http.StatusNotFound)
}
