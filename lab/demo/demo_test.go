package demo

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/lab/cluster"
	"github.com/fleetsim/fleet/unit"
)

// TestUnitsParse checks every demo unit as fleetctl would: the file
// parses and its [X-Fleet] section is valid, with no warning, for the
// instances the story starts.
func TestUnitsParse(t *testing.T) {
	names := map[string]string{"hello@.service": "hello@1.service", "web@.service": "web@1.service", "worker@.service": "worker@1.service"}
	entries, err := fs.ReadDir(units, "units")
	if err != nil || len(entries) != 7 {
		t.Fatalf("embedded units: %d, %v", len(entries), err)
	}
	for _, e := range entries {
		b, err := units.ReadFile(path.Join("units", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		f, err := unit.ParseString(string(b))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		name := e.Name()
		if inst, ok := names[name]; ok {
			name = inst
		}
		if _, warnings, err := unit.ParseRequirements(name, f.Options); err != nil || len(warnings) > 0 {
			t.Errorf("%s: [X-Fleet]: %v %v", name, warnings, err)
		}
	}
}

func TestNotThereYet(t *testing.T) {
	err := errors.New("exit status 1")
	if !notThereYet("status is not available in this fleetctl yet", err) || notThereYet("● hello.service", nil) ||
		notThereYet("connection refused", err) {
		t.Error("notThereYet misreads fleetctl")
	}
}

func TestVictimIsNeitherTheEndpointNorTheOnlyDBMachine(t *testing.T) {
	d := &demo{st: &cluster.State{Machines: []cluster.MachineState{
		{Hostname: "core-01", Metadata: "role=web"},
		{Hostname: "core-02", Metadata: "role=web"},
		{Hostname: "core-03", Metadata: "role=db"},
	}}}
	// Up() reads the systemd process: give every machine this test's.
	for i := range d.st.Machines {
		d.st.Machines[i].Systemd = cluster.ProcessOf(os.Getpid())
	}
	where := map[string][]string{
		"w1": {"core-01"}, "w2": {"core-02"}, "w3": {"core-03"}, "w4": {"core-03"},
		"monitor.service": {"core-01", "core-02", "core-03"},
	}
	victim, moving := d.victim(where)
	if victim != "core-02" || strings.Join(moving, ",") != "w2" {
		t.Errorf("victim %s moving %v, want core-02 moving [w2]", victim, moving)
	}
}
