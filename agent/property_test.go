package agent

import (
	"bytes"
	"slices"
	"testing"

	"github.com/fleetsim/fleet/unit"
	"pgregory.net/rapid"
)

// Few names, hashes and ports, so that desired and current units overlap
// and differ in every way Plan cares about.
var (
	unitNames    = []string{"a.service", "b.service", "c.service", "d.service", "e.service", "f.service"}
	ports        = []uint16{0, 8080}
	loadStates   = []string{"loaded", "loaded", "loaded", "not-found", "error", "masked"}
	activeStates = []string{"active", "reloading", "inactive", "failed", "activating", "deactivating"}
)

// genDesired draws a desired unit named name, in any state, unknown ones
// included.
func genDesired(name string) *rapid.Generator[DesiredUnit] {
	return rapid.Custom(func(t *rapid.T) DesiredUnit {
		return want(
			name,
			rapid.ByteRange(1, 2).Draw(t, "hash"),
			rapid.SampledFrom(ports).Draw(t, "port"),
			unit.State(rapid.IntRange(0, 3).Draw(t, "state")),
		)
	})
}

func genCurrent(name string) *rapid.Generator[CurrentUnit] {
	return rapid.Custom(func(t *rapid.T) CurrentUnit {
		return have(
			name,
			rapid.ByteRange(1, 2).Draw(t, "hash"),
			rapid.SampledFrom(ports).Draw(t, "port"),
			rapid.SampledFrom(loadStates).Draw(t, "load"),
			rapid.SampledFrom(activeStates).Draw(t, "active"),
		)
	})
}

// drawInput draws, name by name, up to two desired entries and maybe an
// installed unit, often with the same file as one of the desired entries,
// so that every rule of Plan is exercised. Both lists come out shuffled.
// current holds one entry per name, as systemd reports, unless dups asks
// for duplicates too.
func drawInput(t *rapid.T, dups bool) ([]DesiredUnit, []CurrentUnit) {
	var desired []DesiredUnit
	var current []CurrentUnit
	for _, name := range unitNames {
		entries := rapid.SliceOfN(genDesired(name), 0, 2).Draw(t, "desired "+name)
		desired = append(desired, entries...)
		installed := 0
		if rapid.Bool().Draw(t, "installed "+name) {
			installed = 1
			if dups && rapid.Bool().Draw(t, "twice "+name) {
				installed = 2
			}
		}
		for range installed {
			c := genCurrent(name).Draw(t, "current "+name)
			if len(entries) > 0 && rapid.Bool().Draw(t, "same file "+name) {
				d := rapid.SampledFrom(entries).Draw(t, "file of "+name)
				c.Hash, c.Port = d.Hash, d.Port
			}
			current = append(current, c)
		}
	}
	desired = rapid.Permutation(desired).Draw(t, "desired order")
	current = rapid.Permutation(current).Draw(t, "current order")
	return desired, current
}

// Applying a plan leaves nothing to do, and after transitions settle one
// more plan brings every unit exactly to its desired state.
func TestPlanConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		desired, current := drawInput(t, false)
		wanted := wantedUnits(desired)
		sd := newFakeSystemd(current)
		for round, settled := range []bool{false, true} {
			tasks := Plan(desired, sd.current())
			checkOrder(t, tasks)
			checkMinimal(t, wanted, sd.current(), tasks)
			if err := sd.apply(tasks); err != nil {
				t.Fatalf("round %d: %v\ntasks:\n%s", round, err, formatTasks(tasks))
			}
			if again := Plan(desired, sd.current()); again != nil {
				t.Fatalf("round %d: planning after applying\n%s gives\n%s", round, formatTasks(tasks), formatTasks(again))
			}
			checkReached(t, wanted, sd.current(), settled)
			sd.settle()
		}
	})
}

// The order of the input does not change the plan, duplicates included.
func TestPlanOrderIndependent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		desired, current := drawInput(t, true)
		tasks := Plan(desired, current)
		pd := rapid.Permutation(desired).Draw(t, "shuffled desired")
		pc := rapid.Permutation(current).Draw(t, "shuffled current")
		if got := Plan(pd, pc); !slices.Equal(got, tasks) {
			t.Fatalf("shuffled input gives\n%s want\n%s", formatTasks(got), formatTasks(tasks))
		}
	})
}

// wantedUnits is a naive reading of Plan's rule for desired units: per
// name, the active entry with the highest state, then hash, then port.
func wantedUnits(desired []DesiredUnit) map[string]DesiredUnit {
	out := make(map[string]DesiredUnit)
	for _, d := range desired {
		if !d.State.Active() {
			continue
		}
		if old, ok := out[d.Name]; !ok || preferred(d, old) {
			out[d.Name] = d
		}
	}
	return out
}

func preferred(a, b DesiredUnit) bool {
	if a.State != b.State {
		return a.State > b.State
	}
	if a.Hash != b.Hash {
		return bytes.Compare(a.Hash[:], b.Hash[:]) > 0
	}
	return a.Port > b.Port
}

// checkReached checks that the machine has exactly the wanted units,
// loaded with the wanted file and port, launched ones running and loaded
// ones not. Once transitions have settled, launched units are "active".
func checkReached(t *rapid.T, wanted map[string]DesiredUnit, current []CurrentUnit, settled bool) {
	for _, c := range current {
		w, ok := wanted[c.Name]
		switch {
		case !ok:
			t.Fatalf("%s remains but is not wanted", c.Name)
		case c.LoadState != "loaded" || c.Hash != w.Hash || c.Port != w.Port:
			t.Fatalf("%s is %+v, want hash %v port %d loaded", c.Name, c, w.Hash.Short(), w.Port)
		case w.State == unit.StateLaunched && !running(c.ActiveState):
			t.Fatalf("%s is desired launched but %s", c.Name, c.ActiveState)
		case w.State == unit.StateLaunched && settled && c.ActiveState != "active":
			t.Fatalf("%s is desired launched but %s after settling", c.Name, c.ActiveState)
		case w.State == unit.StateLoaded && running(c.ActiveState):
			t.Fatalf("%s is desired loaded but %s", c.Name, c.ActiveState)
		}
	}
	if len(current) != len(wanted) {
		t.Fatalf("%d units installed, %d wanted", len(current), len(wanted))
	}
}

// checkOrder checks the phases: stops, unloads, loads, one daemon-reload
// if and only if files changed, stops, starts; each phase sorted by name.
func checkOrder(t *rapid.T, tasks []Task) {
	reloadAt, files := -1, 0
	for i, task := range tasks {
		switch task.Kind {
		case TaskDaemonReload:
			if reloadAt >= 0 {
				t.Fatalf("second daemon-reload at %d:\n%s", i, formatTasks(tasks))
			}
			reloadAt = i
		case TaskLoad, TaskUnload:
			files++
			if reloadAt >= 0 {
				t.Fatalf("%v after the daemon-reload:\n%s", task, formatTasks(tasks))
			}
		}
		checkTaskFields(t, task)
	}
	if (files > 0) != (reloadAt >= 0) {
		t.Fatalf("%d file changes, daemon-reload at %d:\n%s", files, reloadAt, formatTasks(tasks))
	}
	for i := 1; i < len(tasks); i++ {
		a, b := tasks[i-1], tasks[i]
		pa, pb := phase(a, i-1, reloadAt), phase(b, i, reloadAt)
		if pa > pb || (pa == pb && a.Unit >= b.Unit) {
			t.Fatalf("%v before %v:\n%s", a, b, formatTasks(tasks))
		}
	}
	for i, task := range tasks {
		for _, later := range tasks[i+1:] {
			if task.Kind == TaskStart && later.Kind == TaskLoad && later.Unit == task.Unit {
				t.Fatalf("start of %s before its load:\n%s", task.Unit, formatTasks(tasks))
			}
		}
	}
}

// phase numbers the phases 1 to 6; a stop is in phase 1 if it comes
// before the daemon-reload, else in phase 5.
func phase(task Task, at, reloadAt int) int {
	switch task.Kind {
	case TaskStop:
		if at < reloadAt {
			return 1
		}
		return 5
	case TaskUnload:
		return 2
	case TaskLoad:
		return 3
	case TaskDaemonReload:
		return 4
	default:
		return 6
	}
}

// checkTaskFields checks that only loads carry a hash and port and only
// the daemon-reload has no unit.
func checkTaskFields(t *rapid.T, task Task) {
	if (task.Unit == "") != (task.Kind == TaskDaemonReload) {
		t.Fatalf("task %v: unit %q", task, task.Unit)
	}
	if task.Kind != TaskLoad && (!task.Hash.IsZero() || task.Port != 0) {
		t.Fatalf("task %v carries a hash or port", task)
	}
	if task.Kind == TaskLoad && task.Hash.IsZero() {
		t.Fatalf("task %v has no hash", task)
	}
}

// checkMinimal checks that a unit already as wanted gets no task, and
// that a unit not running is never stopped.
func checkMinimal(t *rapid.T, wanted map[string]DesiredUnit, current []CurrentUnit, tasks []Task) {
	byName := make(map[string]CurrentUnit)
	for _, c := range current {
		byName[c.Name] = c
	}
	for _, task := range tasks {
		c, ok := byName[task.Unit]
		if task.Kind == TaskStop && (!ok || !running(c.ActiveState)) {
			t.Fatalf("%v: the unit is not running (%+v)", task, c)
		}
		w, wok := wanted[task.Unit]
		if ok && wok && settledAs(w, c) {
			t.Fatalf("%v: the unit is already as wanted (%+v)", task, c)
		}
	}
}

// settledAs reports whether c needs nothing to be w: same file and port,
// loaded, and in a state Plan accepts for w's desired state.
func settledAs(w DesiredUnit, c CurrentUnit) bool {
	if c.Hash != w.Hash || c.Port != w.Port || c.LoadState != "loaded" {
		return false
	}
	if w.State == unit.StateLaunched {
		return running(c.ActiveState)
	}
	return !running(c.ActiveState)
}
