package agent

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/fleetsim/fleet/unit"
)

// Defaults of StepConfig.
const (
	DefaultJobTimeout = 2 * time.Minute
	DefaultRetryMin   = 10 * time.Second
	DefaultRetryMax   = 5 * time.Minute
	DefaultReadRetry  = time.Second
)

// StepConfig sets an agent step's deadlines.
type StepConfig struct {
	// JobTimeout is how long a start or stop job may run before the unit
	// is reported stuck (the job is left to systemd, which may finish it).
	JobTimeout time.Duration
	// RetryMin and RetryMax bound the backoff after a unit file could not
	// be written or removed, or systemd would not load it.
	RetryMin, RetryMax time.Duration
	// ReadRetry is the first backoff of a load that failed because the
	// unit's file could not be read from the registry (ErrUnreachable):
	// the cluster's passing trouble, not the machine's, so it is tried
	// again soon, doubling up to RetryMin.
	ReadRetry time.Duration
	// Scratch is where Ready works; steps driven by one goroutine may
	// share one. Nil gives the step its own.
	Scratch *Scratch
}

// ErrUnreachable marks a file task that failed because the registry
// could not be read (a timeout, a lost connection), as opposed to a file
// that could not be written or a body that is not there: such a load is
// tried again after StepConfig.ReadRetry.
var ErrUnreachable = errors.New("registry unreachable")

// Step is one machine's agent decisions as a pure step, in the shape of
// etcd's raft RawNode. Inputs go in through methods: the schedule for
// this machine (SetSchedule), what systemd reports (SetUnits), the
// outcome of file tasks (FileDone) and of jobs (JobDone), and the time
// (Tick). Ready returns what to do now: file tasks to carry out at once,
// or start and stop jobs to queue, whose results come back later, and the
// unit states to publish.
//
// Jobs never block the step: a start that never completes is a unit with
// a job in flight, and every other unit goes on. One unit's trouble (a
// file that cannot be written, a unit systemd will not load, a failed
// job) is recorded on that unit and published with its state. A unit
// desired launched is started when it is placed here, when its desired
// state becomes launched, when its content or port changes, and once
// after the agent itself starts; what happens after that is the unit's
// own Restart= and systemd's business, so an exited or failed unit is not
// started again in a loop.
//
// Step holds no goroutine, clock, I/O, etcd or D-Bus type; its driver
// owns it (it is not safe for concurrent use). NewStep does no I/O.
type Step struct {
	cfg StepConfig
	now time.Duration

	lastInput    []DesiredUnit   // the last SetSchedule's argument, copied
	schedule     []DesiredUnit   // as given, less the names fleet never manages
	want         []DesiredUnit   // resolved (see Plan): one per name, sorted
	inactive     map[string]bool // names listed only inactive
	haveSchedule bool
	current      []CurrentUnit
	units        map[string]*record
	refused      map[string]DesiredUnit // desired units whose names fleet never manages
	hadReserved  bool                   // the last SetUnits held a name fleet never manages
	jobs         int                    // jobs in flight
	failing      int                    // units whose file task failed
	dirty        bool                   // any state to publish may have changed since the last Ready
	changed      []int                  // else, the positions in current whose states changed
	replan       bool                   // what Plan sees may have changed since the last Ready
	gen          uint32                 // bumped at every Ready, to tell what it saw
	scratch      *Scratch
}

// Scratch holds the working arrays Ready plans and builds its answer in,
// kept from one Ready to the next: a machine's agent plans thousands of
// times. Nothing in it outlives a call to Ready (what Ready returns is
// copied out), so steps that one goroutine drives, as the simulator's
// machines are, may share one (StepConfig.Scratch).
type Scratch struct {
	planner          planner
	have             []CurrentUnit // current, resolved, when it had to be
	tasks            []Task
	files, jobs      []Task
	stopping, filing names
	publish          []UnitStatus
	unpublish        []string
}

// record is what the step remembers of one unit.
type record struct {
	lastDesired unit.State // desired state seen last, to tell a change
	gen         uint32     // bumped each time the desired state becomes launched
	started     startKey   // what the last start was issued for
	job         TaskKind   // TaskStart or TaskStop in flight, 0 if none
	jobSince    time.Duration
	stuck       bool
	reason      string        // the unit's trouble, published with its state
	fileErr     bool          // a file task failed, or systemd would not load the file
	retryAt     time.Duration // when a failed file task may be tried again
	backoff     time.Duration
	failedFor   startKey   // what the failed file task was for
	loadedFor   startKey   // what the last load was for
	seen        uint32     // the last Ready that saw the unit desired or installed
	pub         UnitStatus // the state last published
	hasPub      bool       // pub is published
	pubSeen     uint32     // the last Ready that had a state to publish for it
}

// startKey says what a start is for: content, port and which launch.
type startKey struct {
	hash unit.Hash
	port uint16
	gen  uint32
}

// UnitStatus is a unit's state as the agent publishes it: systemd's
// states, and the agent's word on the unit's trouble, if any.
type UnitStatus struct {
	Name        string
	Hash        unit.Hash
	LoadState   string
	ActiveState string
	SubState    string
	Reason      string // why the unit is not as desired ("" if nothing is known)
}

// NewStep returns an agent step with cfg's zero fields set to defaults.
func NewStep(cfg StepConfig) *Step {
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryMin)
	}
	if cfg.ReadRetry <= 0 {
		cfg.ReadRetry = min(DefaultReadRetry, cfg.RetryMin)
	}
	scratch := cfg.Scratch
	if scratch == nil {
		scratch = &Scratch{}
	}
	return &Step{cfg: cfg, units: map[string]*record{}, refused: map[string]DesiredUnit{}, scratch: scratch}
}

// SetSchedule gives the units the cluster wants on this machine. Until
// the first schedule, the step leaves systemd alone: an agent cut off
// from the registry keeps its units as they are.
//
// The agent reads its schedule at every interval: the same schedule as
// last time changes nothing and costs one comparison.
func (s *Step) SetSchedule(desired []DesiredUnit) {
	if s.haveSchedule && slices.Equal(desired, s.lastInput) {
		return
	}
	s.lastInput = append(s.lastInput[:0], desired...)
	s.schedule = s.schedule[:0]
	clear(s.refused)
	for _, d := range desired {
		// A name fleet never manages (fleetd's own, D-Bus's, systemd's)
		// written past the API's checks is refused here too: the agent
		// must never install, stop or remove such a unit.
		if s.reserved(d.Name) {
			if d.State.Active() {
				s.refused[d.Name] = d
			}
			continue
		}
		s.schedule = append(s.schedule, d)
	}
	s.want, s.inactive = resolveDesired(s.schedule)
	s.haveSchedule, s.dirty, s.replan = true, true, true
	for _, d := range s.want {
		r := s.record(d.Name)
		if d.State == unit.StateLaunched && r.lastDesired != unit.StateLaunched {
			r.gen++
		}
		r.lastDesired = d.State
	}
	for name, r := range s.units {
		if _, ok := s.wanted(name); !ok {
			r.lastDesired = unit.StateInactive
		}
	}
}

// wanted returns the desired unit named name, if the schedule has one.
func (s *Step) wanted(name string) (DesiredUnit, bool) {
	lo, hi := 0, len(s.want)
	for lo < hi {
		m := (lo + hi) / 2
		if s.want[m].Name < name {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(s.want) && s.want[lo].Name == name {
		return s.want[lo], true
	}
	return DesiredUnit{}, false
}

// SetUnits gives what systemd reports now for the units fleet installed.
// The step keeps a copy. A change that Plan cannot tell (activating to
// active, a sub-state) only changes what is published.
func (s *Step) SetUnits(current []CurrentUnit) {
	same := sameNames(s.current, current)
	// The same names as last time, none of them reserved: no look-up.
	if (s.hadReserved || !same) && s.anyReserved(current) {
		current, s.hadReserved = s.withoutReserved(current), true
		same = sameNames(s.current, current)
	} else {
		s.hadReserved = false
	}
	if !same {
		s.replan, s.dirty = true, true
	} else {
		s.compareStates(current)
	}
	s.current = append(s.current[:0], current...)
}

// compareStates notes what changed between the units systemd reported
// last and current, which list the same names: a change Plan sees asks
// for a plan, any other only for its state to be published.
func (s *Step) compareStates(current []CurrentUnit) {
	for i := range current {
		x, y := &s.current[i], &current[i]
		if *x == *y {
			continue
		}
		if x.Hash != y.Hash || x.Port != y.Port || x.LoadState != y.LoadState ||
			activity(x.ActiveState) != activity(y.ActiveState) {
			s.replan = true
		}
		if !s.dirty {
			s.changed = append(s.changed, i)
		}
	}
}

// reserved reports whether fleet never manages a unit of this name
// (unit.Reserved: fleetd's own, D-Bus's, systemd's).
func (s *Step) reserved(name string) bool { return unit.Reserved(name) }

func (s *Step) anyReserved(current []CurrentUnit) bool {
	for _, c := range current {
		if s.reserved(c.Name) {
			return true
		}
	}
	return false
}

// withoutReserved drops the units fleet never manages: whatever systemd
// says of them, the agent neither stops nor removes them.
func (s *Step) withoutReserved(current []CurrentUnit) []CurrentUnit {
	out := make([]CurrentUnit, 0, len(current))
	for _, c := range current {
		if !s.reserved(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// sameNames reports whether a and b list the same names in the same
// order.
func sameNames(a, b []CurrentUnit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

// activity classes an active state as Plan does: failed, inactive or
// running.
func activity(state string) string {
	if running(state) {
		return "running"
	}
	return state
}

// FileDone reports a file task of the last Ready (load, unload,
// daemon-reload) carried out, with its error.
func (s *Step) FileDone(t Task, err error) {
	s.dirty, s.replan = true, true
	if t.Kind == TaskDaemonReload {
		return // a failed reload shows as units systemd did not load
	}
	r := s.record(t.Unit)
	if err == nil {
		if t.Kind == TaskLoad {
			r.loadedFor = startKey{hash: t.Hash, port: t.Port}
		}
		if r.fileErr { // the backoff stays until systemd has the unit loaded
			r.fileErr, r.reason = false, ""
			s.failing--
		}
		return
	}
	s.failed(r, startKey{hash: t.Hash, port: t.Port}, fmt.Sprintf("%s: %v", t.Kind, err))
	if errors.Is(err, ErrUnreachable) {
		s.backOffBetween(r, s.cfg.ReadRetry, max(s.cfg.RetryMin, s.cfg.ReadRetry))
		return
	}
	s.backOff(r)
}

// failed marks r's file task for key failed with reason, counting the
// unit among the failing once: Tick looks for backoffs run out only while
// one is.
func (s *Step) failed(r *record, key startKey, reason string) {
	if !r.fileErr {
		s.failing++
	}
	r.fileErr, r.failedFor, r.reason = true, key, reason
}

// backOff schedules the next try of r's failed file task.
func (s *Step) backOff(r *record) { s.backOffBetween(r, s.cfg.RetryMin, s.cfg.RetryMax) }

// backOffBetween doubles r's backoff within [lo, hi] and schedules the
// next try after it.
func (s *Step) backOffBetween(r *record, lo, hi time.Duration) {
	r.backoff = min(max(2*r.backoff, lo), hi)
	r.retryAt = s.now + r.backoff
}

// JobDone reports the result of a start or stop job: "done", or
// systemd's word for what went wrong ("failed", "timeout", "canceled",
// "dependency", ...), or a queueing error's text.
func (s *Step) JobDone(name string, kind TaskKind, result string) {
	r := s.units[name]
	if r == nil || r.job != kind {
		return // a job the step no longer waits for (replaced)
	}
	// A start done leaves the unit running, which changes no plan; any
	// other end may let a task held back for the job go ahead.
	s.replan = s.replan || kind != TaskStart || result != "done"
	r.job, r.stuck = 0, false
	s.jobs--
	reason := r.reason
	switch {
	case result != "done":
		reason = fmt.Sprintf("%s job %s", kind, result)
	case !r.fileErr:
		reason = ""
	}
	if reason != r.reason {
		r.reason, s.dirty = reason, true
	}
}

// Tick gives the time (a monotonic duration from any fixed origin). Jobs
// past their deadline are reported stuck; backoffs run out.
func (s *Step) Tick(now time.Duration) {
	s.now = now
	if s.jobs == 0 && s.failing == 0 {
		return
	}
	for _, r := range s.units {
		if r.job != 0 && !r.stuck && now-r.jobSince >= s.cfg.JobTimeout {
			r.stuck = true
			r.reason = fmt.Sprintf("%s job not done after %v", r.job, s.cfg.JobTimeout)
			s.dirty = true
		}
		if r.fileErr && r.retryAt <= now {
			s.dirty, s.replan = true, true
		}
	}
}

// Restarted says the driver lost what it had published (a new lease):
// every state is published again at the next Ready.
func (s *Step) Restarted() {
	for _, r := range s.units {
		r.hasPub = false
	}
	s.dirty = true
}

// JobsInFlight returns how many jobs the step waits for.
func (s *Step) JobsInFlight() int { return s.jobs }

func (s *Step) record(name string) *record {
	r := s.units[name]
	if r == nil {
		r = &record{}
		s.units[name] = r
	}
	return r
}
