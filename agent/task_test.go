package agent

import "testing"

func TestTaskString(t *testing.T) {
	for _, tc := range []struct {
		task Task
		want string
	}{
		{stop("a.service", ReasonNotScheduledHere), "stop a.service (not-scheduled-here)"},
		{unload("a.service", ReasonPortChanged), "unload a.service (port-changed)"},
		{load("a.service", 0xab, 8080, ReasonScheduledHere), "load a.service ab00000 port 8080 (scheduled-here)"},
		{load("a.service", 0xab, 0, ReasonContentChanged), "load a.service ab00000 (content-changed)"},
		{reload, "daemon-reload (units-changed)"},
		{start("a.service", ReasonFailed), "start a.service (failed)"},
		{Task{}, "TaskKind(0) (none)"},
		{Task{Kind: 99, Unit: "x", Reason: 99}, "TaskKind(99) x (TaskReason(99))"},
	} {
		if got := tc.task.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.task, got, tc.want)
		}
	}
}

func TestTaskKindNames(t *testing.T) {
	want := []string{"stop", "unload", "load", "daemon-reload", "start"}
	for i, w := range want {
		if got := TaskKind(i + 1).String(); got != w {
			t.Errorf("TaskKind(%d) = %q, want %q", i+1, got, w)
		}
	}
}

// Every reason has a distinct, non-empty name.
func TestTaskReasonNames(t *testing.T) {
	seen := map[string]TaskReason{}
	for r := ReasonNone; r <= ReasonUnitsChanged; r++ {
		s := r.String()
		if s == "" {
			t.Errorf("reason %d has no name", r)
		}
		if prev, dup := seen[s]; dup {
			t.Errorf("reasons %d and %d are both %q", prev, r, s)
		}
		seen[s] = r
	}
	if got := (ReasonUnitsChanged + 1).String(); got != "TaskReason(11)" {
		t.Errorf("reason past the last = %q", got)
	}
}
