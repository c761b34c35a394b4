package agent

import (
	"fmt"
	"strings"

	"github.com/fleetsim/fleet/unit"
)

// Builders that keep the table tests short.

func hash(b byte) unit.Hash { return unit.Hash{b} }

func want(name string, h byte, port uint16, s unit.State) DesiredUnit {
	return DesiredUnit{Name: name, Hash: hash(h), Port: port, State: s}
}

func launched(name string) DesiredUnit { return want(name, 1, 0, unit.StateLaunched) }

func loaded(name string) DesiredUnit { return want(name, 1, 0, unit.StateLoaded) }

// have is an installed unit with hash h, port and systemd states; the
// sub-state follows the active state.
func have(name string, h byte, port uint16, load, active string) CurrentUnit {
	sub := "dead"
	switch active {
	case "active":
		sub = "running"
	case "failed":
		sub = "failed"
	}
	return CurrentUnit{Name: name, Hash: hash(h), Port: port, LoadState: load, ActiveState: active, SubState: sub}
}

// running1 and idle1 are loaded units with hash 1 and no port.
func running1(name string) CurrentUnit { return have(name, 1, 0, "loaded", "active") }

func idle1(name string) CurrentUnit { return have(name, 1, 0, "loaded", "inactive") }

func stop(name string, r TaskReason) Task { return Task{Kind: TaskStop, Unit: name, Reason: r} }

func unload(name string, r TaskReason) Task { return Task{Kind: TaskUnload, Unit: name, Reason: r} }

func start(name string, r TaskReason) Task { return Task{Kind: TaskStart, Unit: name, Reason: r} }

func load(name string, h byte, port uint16, r TaskReason) Task {
	return Task{Kind: TaskLoad, Unit: name, Reason: r, Hash: hash(h), Port: port}
}

func load1(name string, r TaskReason) Task { return load(name, 1, 0, r) }

var reload = Task{Kind: TaskDaemonReload, Reason: ReasonUnitsChanged}

// formatTasks prints tasks one a line, for failure messages.
func formatTasks(tasks []Task) string {
	if len(tasks) == 0 {
		return "  (none)\n"
	}
	var b strings.Builder
	for _, t := range tasks {
		fmt.Fprintf(&b, "  %v\n", t)
	}
	return b.String()
}
