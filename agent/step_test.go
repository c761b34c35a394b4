package agent

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/unit"
)

// box is a machine's systemd for the step's tests: file tasks take
// effect at once, jobs wait until the test finishes them.
type box struct {
	t         *testing.T
	units     map[string]CurrentUnit
	jobs      []Task // queued, not finished
	failLoad  map[string]error
	refuse    map[string]bool // files systemd will not load
	published map[string]UnitStatus
	files     int // file tasks carried out
	starts    map[string]int
}

func newBox(t *testing.T, current ...CurrentUnit) *box {
	b := &box{t: t, units: map[string]CurrentUnit{}, failLoad: map[string]error{}, refuse: map[string]bool{},
		published: map[string]UnitStatus{}, starts: map[string]int{}}
	for _, c := range current {
		b.units[c.Name] = c
	}
	return b
}

func (b *box) list() []CurrentUnit {
	var out []CurrentUnit
	for _, c := range b.units {
		out = append(out, c)
	}
	slices.SortFunc(out, func(x, y CurrentUnit) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// step drives s until it asks for no more file tasks, and returns the
// jobs it queued.
func (b *box) step(s *Step) []Task {
	var jobs []Task
	for range 10 {
		s.SetUnits(b.list())
		r := s.Ready()
		for _, t := range r.Files {
			s.FileDone(t, b.file(t))
		}
		for _, t := range r.Jobs {
			if t.Kind == TaskStart {
				b.starts[t.Unit]++
				c := b.units[t.Unit]
				c.ActiveState = "activating"
				b.units[t.Unit] = c
			}
			b.jobs = append(b.jobs, t)
		}
		jobs = append(jobs, r.Jobs...)
		for _, st := range r.Publish {
			b.published[st.Name] = st
		}
		for _, n := range r.Unpublish {
			delete(b.published, n)
		}
		if len(r.Files) == 0 {
			return jobs
		}
	}
	b.t.Fatal("the step kept asking for file tasks")
	return nil
}

func (b *box) file(t Task) error {
	b.files++
	switch t.Kind {
	case TaskLoad:
		if err := b.failLoad[t.Unit]; err != nil {
			return err
		}
		b.units[t.Unit] = CurrentUnit{Name: t.Unit, Hash: t.Hash, Port: t.Port, LoadState: "not-found", ActiveState: "inactive", SubState: "dead"}
	case TaskUnload:
		delete(b.units, t.Unit)
	case TaskDaemonReload:
		for n, c := range b.units {
			c.LoadState = "loaded"
			if b.refuse[n] {
				c.LoadState = "error"
			}
			b.units[n] = c
		}
	}
	return nil
}

// finish ends the oldest queued job of name with result, leaving the
// unit in active state after (for a start that is done).
func (b *box) finish(s *Step, name, result, after string) {
	for i, t := range b.jobs {
		if t.Unit == name {
			b.jobs = slices.Delete(b.jobs, i, i+1)
			c := b.units[name]
			c.ActiveState = after
			b.units[name] = c
			s.JobDone(name, t.Kind, result)
			return
		}
	}
	b.t.Fatalf("no job queued for %s", name)
}

func kinds(ts []Task) string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Kind.String()+" "+t.Unit)
	}
	return strings.Join(out, ", ")
}

func TestStepWaitsForAScheduleBeforeTouchingSystemd(t *testing.T) {
	s := NewStep(StepConfig{})
	b := newBox(t, running1("left.service"))
	if jobs := b.step(s); len(jobs) != 0 || b.files != 0 {
		t.Fatalf("an agent without a schedule acted: %v", kinds(jobs))
	}
	if st := b.published["left.service"]; st.ActiveState != "active" {
		t.Fatalf("states are published all the same: %+v", b.published)
	}
}

func TestHangingStartHoldsBackNoOtherUnit(t *testing.T) {
	s := NewStep(StepConfig{JobTimeout: time.Minute})
	b := newBox(t)
	s.SetSchedule([]DesiredUnit{launched("hang.service")})
	if jobs := b.step(s); kinds(jobs) != "start hang.service" {
		t.Fatalf("jobs %q", kinds(jobs))
	}
	s.SetSchedule([]DesiredUnit{launched("hang.service"), launched("next.service")})
	if jobs := b.step(s); kinds(jobs) != "start next.service" {
		t.Fatalf("with hang.service's start in flight, want next.service started at once, got %q", kinds(jobs))
	}
	s.Tick(30 * time.Second)
	b.step(s)
	if r := b.published["hang.service"].Reason; r != "" {
		t.Fatalf("stuck before the deadline: %q", r)
	}
	s.Tick(61 * time.Second)
	b.step(s)
	if st := b.published["hang.service"]; st.ActiveState != "activating" || !strings.Contains(st.Reason, "not done after 1m0s") {
		t.Fatalf("a start past its deadline must be published stuck, activating: %+v", st)
	}
	s.SetSchedule([]DesiredUnit{launched("next.service")})
	if jobs := b.step(s); kinds(jobs) != "stop hang.service" {
		t.Fatalf("unscheduling a hanging start must stop it, got %q", kinds(jobs))
	}
	b.finish(s, "hang.service", "canceled", "activating") // the start, replaced
	if jobs := b.step(s); len(jobs) != 0 || b.units["hang.service"].Name == "" {
		t.Fatalf("unloaded before its stop was done: %q, %v", kinds(jobs), b.units)
	}
	b.finish(s, "hang.service", "done", "inactive")
	b.step(s)
	if _, ok := b.units["hang.service"]; ok {
		t.Fatal("hang.service not unloaded once stopped")
	}
	if _, ok := b.published["hang.service"]; ok {
		t.Fatal("the state of a unit gone from the machine is still published")
	}
}

func TestExitedOrFailedUnitIsNotStartedInALoop(t *testing.T) {
	for _, end := range []string{"inactive", "failed"} {
		t.Run(end, func(t *testing.T) {
			s := NewStep(StepConfig{})
			b := newBox(t)
			s.SetSchedule([]DesiredUnit{launched("true.service")})
			b.step(s)
			b.finish(s, "true.service", "done", "active")
			c := b.units["true.service"]
			c.ActiveState = end // it exits on its own
			b.units["true.service"] = c
			for range 5 {
				s.Tick(time.Hour)
				b.step(s)
			}
			if n := b.starts["true.service"]; n != 1 {
				t.Fatalf("started %d times, want once", n)
			}
			s.SetSchedule([]DesiredUnit{loaded("true.service")})
			b.step(s)
			s.SetSchedule([]DesiredUnit{launched("true.service")})
			b.step(s)
			if n := b.starts["true.service"]; n != 2 {
				t.Fatalf("a new launch must start it again: %d starts", n)
			}
		})
	}
}

func TestContentChangeRestarts(t *testing.T) {
	s := NewStep(StepConfig{})
	b := newBox(t)
	s.SetSchedule([]DesiredUnit{launched("web.service")})
	b.step(s)
	b.finish(s, "web.service", "done", "active")
	s.SetSchedule([]DesiredUnit{want("web.service", 2, 0, unit.StateLaunched)})
	if jobs := b.step(s); kinds(jobs) != "stop web.service" {
		t.Fatalf("a running unit whose content changed is stopped first: %q", kinds(jobs))
	}
	b.finish(s, "web.service", "done", "inactive")
	if jobs := b.step(s); kinds(jobs) != "start web.service" || b.units["web.service"].Hash != hash(2) {
		t.Fatalf("then replaced and started: %q, %+v", kinds(jobs), b.units["web.service"])
	}
}

func TestNewAgentStartsOnlyWhatIsNotRunning(t *testing.T) {
	s := NewStep(StepConfig{})
	b := newBox(t, running1("up.service"), idle1("down.service"))
	s.SetSchedule([]DesiredUnit{launched("up.service"), launched("down.service")})
	if jobs := b.step(s); kinds(jobs) != "start down.service" {
		t.Fatalf("after a restart: %q, want down.service started once", kinds(jobs))
	}
}

func TestScheduleReadAgainChangesNothing(t *testing.T) {
	s := NewStep(StepConfig{})
	b := newBox(t)
	sched := []DesiredUnit{launched("a.service"), launched("b.service")}
	s.SetSchedule(sched)
	if jobs := b.step(s); kinds(jobs) != "start a.service, start b.service" {
		t.Fatalf("first schedule: %q", kinds(jobs))
	}
	b.finish(s, "a.service", "done", "active")
	b.finish(s, "b.service", "done", "active")
	b.step(s)
	s.SetSchedule(sched)
	if r := s.Ready(); !r.Empty() {
		t.Fatalf("the same schedule read again asks for %+v", r)
	}
	// The reader's buffer, reused for another schedule: that is a change.
	sched[1].State = unit.StateInactive
	s.SetSchedule(sched)
	if jobs := b.step(s); kinds(jobs) != "stop b.service" {
		t.Fatalf("b.service made inactive in the same buffer: %q, want it stopped", kinds(jobs))
	}
	b.finish(s, "b.service", "done", "inactive")
	sched[1].State = unit.StateLaunched
	s.SetSchedule(sched)
	if jobs := b.step(s); kinds(jobs) != "start b.service" {
		t.Fatalf("b.service launched again: %q, want it started", kinds(jobs))
	}
}

func TestOneUnitsFileTroubleStaysWithIt(t *testing.T) {
	s := NewStep(StepConfig{RetryMin: 10 * time.Second})
	b := newBox(t)
	b.failLoad["bad.service"] = errors.New("file name too long")
	s.SetSchedule([]DesiredUnit{launched("bad.service"), launched("good.service")})
	if jobs := b.step(s); kinds(jobs) != "start good.service" {
		t.Fatalf("good.service must start though bad.service cannot be written: %q", kinds(jobs))
	}
	st := b.published["bad.service"]
	if st.ActiveState != "failed" || !strings.Contains(st.Reason, "file name too long") {
		t.Fatalf("bad.service must be published failed with why: %+v", st)
	}
	files := b.files
	s.Tick(5 * time.Second)
	b.step(s)
	if b.files != files {
		t.Fatalf("a failed load tried again before its backoff: %d file tasks", b.files-files)
	}
	delete(b.failLoad, "bad.service")
	s.Tick(11 * time.Second)
	if jobs := b.step(s); kinds(jobs) != "start bad.service" {
		t.Fatalf("after the backoff the load is tried again and the unit started: %q", kinds(jobs))
	}
	if st := b.published["bad.service"]; st.Reason != "" || st.LoadState != "loaded" {
		t.Fatalf("the trouble must be cleared once it is over: %+v", st)
	}
}

func TestUnreadableFileIsTriedAgainSoon(t *testing.T) {
	s := NewStep(StepConfig{RetryMin: 10 * time.Second, ReadRetry: time.Second})
	b := newBox(t)
	b.failLoad["far.service"] = fmt.Errorf("%w: get body: context deadline exceeded", ErrUnreachable)
	s.SetSchedule([]DesiredUnit{launched("far.service")})
	b.step(s)
	if st := b.published["far.service"]; !strings.Contains(st.Reason, "deadline exceeded") {
		t.Fatalf("the failed read must be published with why: %+v", st)
	}
	// The backoff doubles from ReadRetry (1s, 2s, 4s, 8s) up to RetryMin.
	var tries []time.Duration
	for now := 500 * time.Millisecond; now <= 30*time.Second; now += 500 * time.Millisecond {
		files := b.files
		s.Tick(now)
		b.step(s)
		if b.files != files {
			tries = append(tries, now)
		}
	}
	want := []time.Duration{time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second, 25 * time.Second}
	if fmt.Sprint(tries) != fmt.Sprint(want) {
		t.Fatalf("reads tried again at %v, want %v", tries, want)
	}
	delete(b.failLoad, "far.service")
	s.Tick(37 * time.Second)
	if jobs := b.step(s); kinds(jobs) != "start far.service" {
		t.Fatalf("once the registry answers the unit is loaded and started: %q", kinds(jobs))
	}
}

func TestUnitSystemdRefusesIsNotReloadedInALoop(t *testing.T) {
	s := NewStep(StepConfig{RetryMin: time.Minute})
	b := newBox(t)
	b.refuse["weird.service"] = true
	s.SetSchedule([]DesiredUnit{launched("weird.service")})
	b.step(s)
	files := b.files
	for i := range 10 {
		s.Tick(time.Duration(i) * time.Second)
		b.step(s)
	}
	if b.files != files {
		t.Fatalf("%d more file tasks for a unit systemd refuses", b.files-files)
	}
	if st := b.published["weird.service"]; !strings.Contains(st.Reason, "load state error") {
		t.Fatalf("the refusal must be published: %+v", st)
	}
	if b.starts["weird.service"] != 0 {
		t.Fatal("a unit systemd did not load was started")
	}
}

func TestFailedJobIsPublishedAndNotRetried(t *testing.T) {
	s := NewStep(StepConfig{})
	b := newBox(t)
	s.SetSchedule([]DesiredUnit{launched("x.service")})
	b.step(s)
	b.finish(s, "x.service", "failed", "failed")
	b.step(s)
	if st := b.published["x.service"]; st.Reason != "start job failed" {
		t.Fatalf("reason %q", st.Reason)
	}
	if b.starts["x.service"] != 1 {
		t.Fatalf("%d starts", b.starts["x.service"])
	}
}

func TestPublishesChangesOnlyAndAgainAfterAFailure(t *testing.T) {
	s := NewStep(StepConfig{})
	b := newBox(t, running1("a.service"))
	s.SetSchedule([]DesiredUnit{launched("a.service")})
	s.SetUnits(b.list())
	if r := s.Ready(); len(r.Publish) != 1 {
		t.Fatalf("want a.service published, got %+v", r.Publish)
	}
	s.SetUnits(b.list())
	if r := s.Ready(); !r.Empty() {
		t.Fatalf("nothing changed, yet %+v", r)
	}
	s.Unpublished("a.service")
	if r := s.Ready(); len(r.Publish) != 1 {
		t.Fatalf("a state that could not be published must be published again: %+v", r)
	}
	s.Restarted()
	if r := s.Ready(); len(r.Publish) != 1 {
		t.Fatalf("a new lease publishes everything again: %+v", r)
	}
}

// A unit named as one the machine cannot lose, scheduled past the API's
// checks, is never installed, stopped or removed: it is published failed,
// saying why, and the other units go on.
func TestReservedNamesAreNeverTouched(t *testing.T) {
	s := NewStep(StepConfig{})
	b := newBox(t, running1("fleetd.service"))
	s.SetSchedule([]DesiredUnit{launched("fleetd.service"), launched("app.service")})
	if jobs := b.step(s); kinds(jobs) != "start app.service" {
		t.Fatalf("jobs %q, want app.service started only", kinds(jobs))
	}
	if b.starts["fleetd.service"] != 0 || b.units["fleetd.service"].ActiveState != "active" {
		t.Fatalf("fleetd.service was touched: %+v", b.units["fleetd.service"])
	}
	if st := b.published["fleetd.service"]; st.ActiveState != "failed" || !strings.Contains(st.Reason, "cannot lose") {
		t.Fatalf("fleetd.service must be published refused: %+v", st)
	}
	s.SetSchedule([]DesiredUnit{launched("app.service")})
	if jobs := b.step(s); len(jobs) != 0 || b.units["fleetd.service"].Name == "" {
		t.Fatalf("unscheduling a reserved name must not stop or remove it: %q, %v", kinds(jobs), b.units)
	}
}

// One unit's file task that succeeds must not hide another's failure:
// the step counts the units it has to try again, and a unit systemd
// refused to load, written again, once counted one too few, so the
// other's failed load was never tried again.
func TestRetryOfOneUnitDoesNotForgetAnothersFailure(t *testing.T) {
	s := NewStep(StepConfig{RetryMin: 10 * time.Second})
	b := newBox(t)
	b.refuse["weird.service"] = true
	b.failLoad["far.service"] = fmt.Errorf("%w: read timed out", ErrUnreachable)
	s.SetSchedule([]DesiredUnit{launched("far.service"), launched("weird.service")})
	b.step(s)
	for now := time.Second; now <= 12*time.Second; now += time.Second {
		s.Tick(now)
		b.step(s) // weird.service is written again at 10s, and loads no better
	}
	delete(b.failLoad, "far.service")
	var jobs []Task
	for now := 13 * time.Second; now <= 30*time.Second; now += time.Second {
		s.Tick(now)
		jobs = append(jobs, b.step(s)...)
	}
	if kinds(jobs) != "start far.service" {
		t.Fatalf("far.service, whose body could not be read, once the registry answers: jobs %q", kinds(jobs))
	}
}

// A unit file systemd will not load is written again after a backoff
// that doubles, as a failed write's does: writing it is not a success.
func TestUnitSystemdRefusesBacksOffMoreEachTime(t *testing.T) {
	s := NewStep(StepConfig{RetryMin: 10 * time.Second, RetryMax: time.Minute})
	b := newBox(t)
	b.refuse["weird.service"] = true
	s.SetSchedule([]DesiredUnit{launched("weird.service")})
	b.step(s)
	var tries []time.Duration
	for now := time.Second; now <= 3*time.Minute; now += time.Second {
		files := b.files
		s.Tick(now)
		b.step(s)
		if b.files != files {
			tries = append(tries, now)
		}
	}
	want := []time.Duration{10 * time.Second, 30 * time.Second, 70 * time.Second, 130 * time.Second}
	if fmt.Sprint(tries) != fmt.Sprint(want) {
		t.Fatalf("written again at %v, want %v", tries, want)
	}
	delete(b.refuse, "weird.service")
	b.step(s) // not yet due: nothing happens until the backoff runs out
	s.Tick(4 * time.Minute)
	if jobs := b.step(s); kinds(jobs) != "start weird.service" {
		t.Fatalf("once systemd loads it, it is started: %q", kinds(jobs))
	}
}
