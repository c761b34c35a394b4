package agent

import (
	"fmt"

	"github.com/fleetsim/fleet/unit"
)

// TaskKind says what a Task asks of systemd.
type TaskKind uint8

// The kinds of task, in the order their phases appear in a plan (stop also
// appears once more, after the daemon-reload).
const (
	TaskStop         TaskKind = iota + 1 // stop the unit (systemctl stop)
	TaskUnload                           // remove the unit file and its drop-in
	TaskLoad                             // write the unit file (Hash) and its drop-in (Port)
	TaskDaemonReload                     // make systemd re-read unit files (systemctl daemon-reload)
	TaskStart                            // start the unit (systemctl start)
)

var taskKindNames = [...]string{
	TaskStop:         "stop",
	TaskUnload:       "unload",
	TaskLoad:         "load",
	TaskDaemonReload: "daemon-reload",
	TaskStart:        "start",
}

// String returns "stop", "unload", "load", "daemon-reload" or "start".
func (k TaskKind) String() string {
	if k > 0 && int(k) < len(taskKindNames) {
		return taskKindNames[k]
	}
	return fmt.Sprintf("TaskKind(%d)", uint8(k))
}

// TaskReason names why Plan asked for a task. Reasons are data: the
// simulator, logs and fleetctl explain a task with the same words.
type TaskReason uint8

// The reasons for tasks.
const (
	ReasonNone             TaskReason = iota
	ReasonNotScheduledHere            // the schedule does not put the unit on this machine
	ReasonDesiredInactive             // the unit is listed here with desired state inactive
	ReasonScheduledHere               // the unit is scheduled here and not installed
	ReasonContentChanged              // the installed unit file's hash differs from the desired one
	ReasonPortChanged                 // the installed port differs from the desired one
	ReasonNotLoaded                   // the unit is installed but systemd's LoadState is not "loaded"
	ReasonDesiredLoaded               // the unit is desired loaded but is running
	ReasonDesiredLaunched             // the unit is desired launched but is not running
	ReasonFailed                      // the unit is desired launched and systemd reports it failed
	ReasonUnitsChanged                // unit files were written or removed
)

var reasonNames = [...]string{
	ReasonNone:             "none",
	ReasonNotScheduledHere: "not-scheduled-here",
	ReasonDesiredInactive:  "desired-inactive",
	ReasonScheduledHere:    "scheduled-here",
	ReasonContentChanged:   "content-changed",
	ReasonPortChanged:      "port-changed",
	ReasonNotLoaded:        "not-loaded",
	ReasonDesiredLoaded:    "desired-loaded",
	ReasonDesiredLaunched:  "desired-launched",
	ReasonFailed:           "failed",
	ReasonUnitsChanged:     "units-changed",
}

// String returns the reason's short name, such as "content-changed".
func (r TaskReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("TaskReason(%d)", uint8(r))
}

// Task is one step of a plan: what to do, to which unit, and why.
type Task struct {
	Kind   TaskKind
	Unit   string // unit name; "" for TaskDaemonReload
	Reason TaskReason
	// Hash and Port are what a TaskLoad installs: the unit file with this
	// content hash and a drop-in with this port (none if 0). They are zero
	// for every other kind. Carrying them makes a task self-contained: the
	// executor needs no lookup in the desired units to carry it out.
	Hash unit.Hash
	Port uint16
}

// String describes the task in one line, such as
// "load web.service 1a2b3c4 port 8080 (scheduled-here)" or
// "daemon-reload (units-changed)".
func (t Task) String() string {
	s := t.Kind.String()
	if t.Unit != "" {
		s += " " + t.Unit
	}
	if t.Kind == TaskLoad {
		s += " " + t.Hash.Short()
		if t.Port != 0 {
			s += fmt.Sprintf(" port %d", t.Port)
		}
	}
	return s + " (" + t.Reason.String() + ")"
}
