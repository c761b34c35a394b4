package scheduler

import (
	"strings"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

// Small snapshots worked out by hand from README.md, run through both the
// reference and the fast scheduler. They pin the oracle's reading of the
// README and keep rare cases (which random snapshots hit seldom) in every
// run.

// exampleCase is one hand-computed pass. Machines are "id" (alive) or
// "id dead"; units are "name [inactive] Key=Value..."; placements are
// "unit machine port". want lists final placements as unit@machine:port;
// unscheduled lists the unplaced non-global units.
type exampleCase struct {
	name        string
	machines    []string
	units       []string
	placements  []Placement
	want        string
	unscheduled string
}

var exampleCases = []exampleCase{{
	name:        "a Replaces taking a global off frees the machine for a unit that conflicts with it",
	machines:    []string{"m01"},
	units:       []string{"proxy.service Conflicts=monitor.service", "queue.service Replaces=monitor.service", "monitor.service Global=true"},
	want:        "proxy.service@m01:0 queue.service@m01:0",
	unscheduled: "",
}, {
	name:     "a Replaces taking a global off frees its port for another global",
	machines: []string{"m01"},
	units:    []string{"queue.service Replaces=agent.service", "agent.service Global=true Ports=8080", "sidekick.service Global=true Ports=8080"},
	want:     "queue.service@m01:0 sidekick.service@m01:8080",
}, {
	name:        "Conflicts spread instances, least loaded ties by ID",
	machines:    []string{"m02", "m01"},
	units:       []string{"web@1.service Conflicts=%p@*", "web@2.service Conflicts=%p@*", "web@3.service Conflicts=%p@*"},
	want:        "web@1.service@m01:0 web@2.service@m02:0",
	unscheduled: "web@3.service",
}, {
	name:     "MachineID by its 8-character prefix",
	machines: []string{"3f2a9c01000000000000000000000001", "3f2a9c01000000000000000000000002", "a1b2c3d4000000000000000000000003"},
	units:    []string{"api.service", "db.service MachineID=a1b2c3d4"},
	want:     "api.service@3f2a9c01000000000000000000000001:0 db.service@a1b2c3d4000000000000000000000003:0",
}, {
	name:       "a kept unit displaces what it Replaces, and the MachineOf followers go too",
	machines:   []string{"m01", "m02"},
	units:      []string{"db.service", "app.service MachineOf=db.service", "new.service Replaces=db.service"},
	placements: []Placement{{"db.service", "m01", 0}, {"app.service", "m01", 0}, {"new.service", "m01", 0}},
	want:       "app.service@m02:0 db.service@m02:0 new.service@m01:0",
}, {
	name:        "ports kept, reassigned, lowest free, used up",
	machines:    []string{"m01"},
	units:       []string{"api.service Ports=20001-20003", "cache.service Ports=20001-20003", "db.service Ports=20001-20003", "log.service Ports=20001-20003", "mail.service"},
	placements:  []Placement{{"api.service", "m01", 20002}, {"cache.service", "m01", 20002}, {"db.service", "gone", 20001}, {"mail.service", "m01", 20001}},
	want:        "api.service@m01:20002 cache.service@m01:20001 db.service@m01:20003 mail.service@m01:0",
	unscheduled: "log.service",
}, {
	name:       "a duplicate keeps the first alive machine in ID order",
	machines:   []string{"m00 dead", "m01", "m02"},
	units:      []string{"db.service"},
	placements: []Placement{{"db.service", "m02", 0}, {"db.service", "m00", 0}, {"db.service", "m01", 0}},
	want:       "db.service@m01:0",
}, {
	name:        "a MachineOf cycle, and a unit naming it, stay unplaced",
	machines:    []string{"m01"},
	units:       []string{"a.service MachineOf=b.service", "b.service MachineOf=a.service", "c.service MachineOf=a.service", "d.service inactive"},
	placements:  []Placement{{"a.service", "m01", 0}, {"b.service", "m01", 0}, {"d.service", "m01", 0}},
	want:        "",
	unscheduled: "a.service b.service c.service",
}}

func (ex exampleCase) snapshot(t *testing.T) *Snapshot {
	snap := &Snapshot{Placements: ex.placements}
	for _, m := range ex.machines {
		id, state, _ := strings.Cut(m, " ")
		snap.Machines = append(snap.Machines, Machine{ID: id, Alive: state != "dead"})
	}
	for _, spec := range ex.units {
		fields := strings.Fields(spec)
		u := Unit{Name: fields[0], Desired: unit.StateLaunched}
		var opts []unit.Option
		for _, f := range fields[1:] {
			if f == "inactive" {
				u.Desired = unit.StateInactive
				continue
			}
			k, v, _ := strings.Cut(f, "=")
			opts = append(opts, genOpt(k, v))
		}
		req, _, err := unit.ParseRequirements(u.Name, opts)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		u.Req = req
		snap.Units = append(snap.Units, u)
	}
	return snap
}

func exampleNonGlobal(snap *Snapshot, names []string) string {
	var out []string
	for _, n := range names {
		if !propIsGlobal(snap, n) {
			out = append(out, n)
		}
	}
	return strings.Join(out, " ")
}

func TestExamples(t *testing.T) {
	for _, ex := range exampleCases {
		t.Run(ex.name, func(t *testing.T) {
			snap := ex.snapshot(t)
			final, unscheduled := referencePlan(snap)
			if got := propPlacementsText(final); got != ex.want {
				t.Errorf("reference placements\n got: %s\nwant: %s", got, ex.want)
			}
			if got := exampleNonGlobal(snap, unscheduled); got != ex.unscheduled {
				t.Errorf("reference unscheduled %q, want %q", got, ex.unscheduled)
			}
			plan, err := New().Plan(genClone(snap))
			if err != nil {
				t.Fatal(err)
			}
			if got := propPlacementsText(Apply(snap.Placements, plan)); got != ex.want {
				t.Errorf("fast placements\n got: %s\nwant: %s\nplan:%s", got, ex.want, propPlanText(plan))
			}
			var names []string
			for _, u := range plan.Unscheduled {
				names = append(names, u.Unit)
			}
			if got := exampleNonGlobal(snap, names); got != ex.unscheduled {
				t.Errorf("fast unscheduled %q, want %q", got, ex.unscheduled)
			}
		})
	}
}
