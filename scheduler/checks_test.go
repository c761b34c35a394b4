package scheduler

import (
	"strings"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

// checkCase asks one checker about one unit on one machine, after a pass
// over a small cluster whose placements are given.
type checkCase struct {
	name      string
	candidate []string // [X-Fleet] Key=Value lines of the unit asked about
	others    []Unit   // units already placed, through placements
	placed    []Placement
	machine   string
	want      bool
}

func mkReq(t *testing.T, name string, kv ...string) unit.Requirements {
	t.Helper()
	var opts []unit.Option
	for _, l := range kv {
		k, v, _ := strings.Cut(l, "=")
		opts = append(opts, unit.Option{Section: unit.FleetSection, Name: k, Value: v})
	}
	r, _, err := unit.ParseRequirements(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func other(t *testing.T, name string, kv ...string) Unit {
	return Unit{Name: name, Desired: unit.StateLaunched, Req: mkReq(t, name, kv...)}
}

var checkMachines = []Machine{
	{ID: "3f2a1b9c0d0e4f5a8b7c6d5e4f3a2b1c", Alive: true, Metadata: map[string]string{"region": "eu", "ram": "4096"}},
	{ID: "e3583575125c30bdf50d4473544f7eba", Alive: true, Metadata: map[string]string{"region": "us", "ram": "512"}},
}

const mA, mB = "3f2a1b9c0d0e4f5a8b7c6d5e4f3a2b1c", "e3583575125c30bdf50d4473544f7eba"

// runCheck plans the cluster (the candidate inactive, so it stays where
// it is asked about) and runs one checker.
func runCheck(t *testing.T, c checkCase, candidate string, ok func(p *pass, u, m int32) bool) bool {
	t.Helper()
	snap := &Snapshot{Machines: checkMachines, Placements: c.placed,
		Units: append([]Unit{{Name: candidate, Desired: unit.StateInactive, Req: mkReq(t, candidate, c.candidate...)}}, c.others...)}
	p, err := New().run(snap)
	if err != nil {
		t.Fatal(err)
	}
	return ok(p, p.upos[candidate], p.mpos[c.machine])
}

func runTable(t *testing.T, candidate string, ok func(p *pass, u, m int32) bool, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		if got := runCheck(t, c, candidate, ok); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCheckMachineID(t *testing.T) {
	runTable(t, "pinned.service", (*pass).checkMachineID, []checkCase{
		{name: "no MachineID", machine: mB, want: true},
		{name: "full ID, that machine", candidate: []string{"MachineID=" + mA}, machine: mA, want: true},
		{name: "full ID, another machine", candidate: []string{"MachineID=" + mA}, machine: mB, want: false},
		{name: "short ID", candidate: []string{"MachineID=e3583575"}, machine: mB, want: true},
		{name: "short ID of another", candidate: []string{"MachineID=e3583575"}, machine: mA, want: false},
		{name: "a 7-character prefix is no short ID", candidate: []string{"MachineID=e358357"}, machine: mB, want: false},
	})
}

func TestCheckMetadata(t *testing.T) {
	runTable(t, "meta.service", (*pass).checkMetadata, []checkCase{
		{name: "none asked", machine: mA, want: true},
		{name: "equal", candidate: []string{"MachineMetadata=region=eu"}, machine: mA, want: true},
		{name: "equal, other value", candidate: []string{"MachineMetadata=region=eu"}, machine: mB, want: false},
		{name: "same key ORs", candidate: []string{"MachineMetadata=region=eu", "MachineMetadata=region=us"}, machine: mB, want: true},
		{name: "keys AND", candidate: []string{"MachineMetadata=region=us", "MachineMetadata=ram>=1024"}, machine: mB, want: false},
		{name: "numeric operator", candidate: []string{"MachineMetadata=ram>=1024"}, machine: mA, want: true},
		{name: "not equal", candidate: []string{"MachineMetadata=region!=eu"}, machine: mB, want: true},
		{name: "missing key fails >=", candidate: []string{"MachineMetadata=disk>=1"}, machine: mA, want: false},
	})
}

func TestCheckMachineOf(t *testing.T) {
	db := other(t, "db.service")
	runTable(t, "side.service", (*pass).checkMachineOf, []checkCase{
		{name: "no peers", machine: mA, want: true},
		{name: "peer here", candidate: []string{"MachineOf=db.service"}, others: []Unit{db},
			placed: []Placement{{Unit: "db.service", Machine: mA}}, machine: mA, want: true},
		{name: "peer elsewhere", candidate: []string{"MachineOf=db.service"}, others: []Unit{db},
			placed: []Placement{{Unit: "db.service", Machine: mA}}, machine: mB, want: false},
		{name: "peer missing", candidate: []string{"MachineOf=db.service"}, machine: mA, want: false},
	})
}

func TestCheckConflicts(t *testing.T) {
	web1 := other(t, "web@1.service", "Conflicts=web@*")
	holder := other(t, "holder.service", "Conflicts=web@2.service")
	runTable(t, "web@2.service", (*pass).checkConflicts, []checkCase{
		{name: "nothing there", candidate: []string{"Conflicts=web@*"}, machine: mA, want: true},
		{name: "own glob matches a unit there", candidate: []string{"Conflicts=web@*"}, others: []Unit{web1},
			placed: []Placement{{Unit: "web@1.service", Machine: mA}}, machine: mA, want: false},
		{name: "own glob, unit elsewhere", candidate: []string{"Conflicts=web@*"}, others: []Unit{web1},
			placed: []Placement{{Unit: "web@1.service", Machine: mA}}, machine: mB, want: true},
		{name: "symmetric: a unit there names it", others: []Unit{holder},
			placed: []Placement{{Unit: "holder.service", Machine: mB}}, machine: mB, want: false},
		{name: "glob with a class", candidate: []string{"Conflicts=web@[13].service"}, others: []Unit{web1},
			placed: []Placement{{Unit: "web@1.service", Machine: mA}}, machine: mA, want: false},
	})
}

func TestCheckReplacedBy(t *testing.T) {
	replacer := other(t, "new.service", "Replaces=old.service")
	runTable(t, "old.service", (*pass).checkReplacedBy, []checkCase{
		{name: "no replacer", machine: mA, want: true},
		{name: "replacer there", others: []Unit{replacer},
			placed: []Placement{{Unit: "new.service", Machine: mA}}, machine: mA, want: false},
		{name: "replacer elsewhere", others: []Unit{replacer},
			placed: []Placement{{Unit: "new.service", Machine: mA}}, machine: mB, want: true},
	})
}

func TestCheckPorts(t *testing.T) {
	a := other(t, "a.service", "Ports=20001-20002")
	b := other(t, "b.service", "Ports=20001-20002")
	full := []Placement{{Unit: "a.service", Machine: mA, Port: 20001}, {Unit: "b.service", Machine: mA, Port: 20002}}
	runTable(t, "c.service", (*pass).checkPorts, []checkCase{
		{name: "no ports asked", others: []Unit{a, b}, placed: full, machine: mA, want: true},
		{name: "range used up", candidate: []string{"Ports=20001-20002"}, others: []Unit{a, b}, placed: full, machine: mA, want: false},
		{name: "range free elsewhere", candidate: []string{"Ports=20001-20002"}, others: []Unit{a, b}, placed: full, machine: mB, want: true},
		{name: "a wider range has room", candidate: []string{"Ports=20001-20003"}, others: []Unit{a, b}, placed: full, machine: mA, want: true},
		{name: "a second range has room", candidate: []string{"Ports=20001 30000"}, others: []Unit{a, b}, placed: full, machine: mA, want: true},
	})
}
