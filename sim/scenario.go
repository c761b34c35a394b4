package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
	"github.com/fleetsim/fleet/unit"
)

// ErrScenario is wrapped by every error ParseScenario and World return.
var ErrScenario = errors.New("sim: bad scenario")

// Scenario is a parsed scenario file: a cluster, its units, the faults
// and operator actions injected at chosen virtual times, how long to run
// and what must hold at the end.
//
// The grammar has one directive per line. Words are separated by white
// space; double quotes group words into one ("a b") and are dropped; a
// word starting with # starts a comment that runs to the end of the line.
// Directives come in this order: one cluster line first; then machine,
// unit and at lines; then one run line; then assert lines.
//
//	cluster machines=N [key=value ...]
//	    The cluster: machines m1..mN, booting at time 0. Keys (durations
//	    as Go writes them, 1m30s): seed=N, ttl= (agent TTL), heartbeat=,
//	    reconcile= (engine interval), agent= (agent interval), leader-ttl=,
//	    latency=, jitter=, start= (unit start time), start-jitter=,
//	    sample= (time series interval); probabilities, as 0.01 or 1%:
//	    start-fail=, heartbeat-loss=; crash-per-hour= (rate per running
//	    unit); metadata=region:eu|us,disk:ssd gives every machine every
//	    key, the values assigned round-robin: machine mI takes value
//	    number (I-1) mod count (m1 eu, m2 us, m3 eu, ...).
//	machine ID [k=v ...]
//	    An extra machine, present from the start, with metadata.
//	unit NAME [inactive|loaded|launched] [Key=Value ...]
//	    A unit (launched unless told) with [X-Fleet] options, checked as
//	    fleet checks them, unknown keys refused: unit web@{1..3}.service
//	    Conflicts=web@*. A template (web@.service) is only ever inactive.
//	    Two keys say how the unit behaves in the simulated world:
//	    sim=runs|hangs|slow|exits|fails (its start job completes, never
//	    completes, completes after 3m, completes and the program exits at
//	    once, fails), sim=refused (systemd will not load its file),
//	    sim=corrupt (its body in the registry does not decode), and
//	    Restart=no|on-failure|always (what systemd does when it ends,
//	    within systemd's default start limit, 5 starts in 10s).
//	at TIME OPERATION
//	    Injects an operation; at lines are written in time order, and a
//	    machine or unit must be defined (or joined) on an earlier line.
//	    Faults (they delay the liveness check):
//	        kill M | rejoin M | partition M | heal M | kill-leader
//	        registry-slow +2s for 30s      every registry round 2s slower
//	        lose-heartbeats M 50% for 1m   M's heartbeats lost at that rate
//	        skew M 5%                      M's clock runs 5% slow (-5%: fast)
//	        commit-timeouts 50% for 1m     commits' answers and body reads lost at
//	                                       that rate (a commit applied or not: the
//	                                       leader cannot tell)
//	        lose-watch M                   M's schedule watch is lost (compaction);
//	                                       its agent lists again a second later
//	        stall-watch M for 30s          M's schedule watch goes quiet, with no
//	                                       error (its etcd member cut off): its
//	                                       agent sees changes at its own reads
//	    Operator actions:
//	        join M [k=v ...]               a new machine boots
//	        metadata M [k=v ...]           M's metadata is replaced
//	        start U | load U | stop U | unload U
//	                                       U's desired state becomes
//	                                       launched, loaded, loaded, inactive
//	run until TIME
//	    Runs the world from 0 to TIME. Every at line must come before it.
//	assert METRIC OP VALUE
//	    OP is one of == != < <= > >=. Metrics: running ((unit, machine)
//	    pairs active at the end), violations, unscheduled (units the last
//	    plan left without a machine), pending (units whose machine died
//	    that never ran again), rescheduled (how many times a unit ran
//	    again after its machine died), reschedule_p50, reschedule_p99,
//	    reschedule_max (durations), double_run (unit-seconds of extra
//	    copies: 90 or 1m30s), elections, commits, commits_rejected,
//	    scheduler_calls, events, agent_starts (start jobs the agents
//	    queued), restarts (starts systemd made as Restart= asked),
//	    commits_timed_out, left_out (units the last plan left out: a
//	    body that does not decode or parse).
//	assert unscheduled UNIT [REASON]
//	    The last plan left UNIT without a machine (for that reason, as
//	    the scheduler names it: conflict, ports-used-up, metadata, ...).
//	assert liveness checked
//	    The liveness check ran: faults stopped long enough before the end.
//
// Unit names, machine IDs and the targets of at lines and unscheduled
// asserts expand braces as a shell does: web@{1..3}.service is three
// units, m{1,4} two machines. Anything the grammar does not expect
// (unknown directive, key, metric or reason, leftover words, a bad
// duration, an unknown machine or unit, a duplicate) is an error naming
// the line.
type Scenario struct {
	Name   string        // the name given to ParseScenario; it prefixes every error
	Config Config        // from the cluster line; callers may change Seed before World
	Until  time.Duration // from run until

	clusterLine int
	clusterN    int       // machines m1..mN the cluster line made
	clusterMeta []metaKey // the cluster line's metadata=, in order
	machines    []scMachine
	units       []scUnit
	ops         []scOp
	asserts     []scAssert
}

// metaKey is one key of the cluster line's metadata= and its values.
type metaKey struct {
	key    string
	values []string
}

// scMachine is a machine present from the start.
type scMachine struct {
	id   string
	meta map[string]string
	line int
}

// scUnit is a unit line (one per expanded name).
type scUnit struct {
	name  string
	state unit.State
	opts  []unit.Option
	beh   Behaviour
	line  int
}

// scOp is one operation of an at line (one per expanded target).
type scOp struct {
	at   time.Duration
	verb string // the word the file used (start, load, stop, ...)
	op   Op
	line int
}

// lineError is a parse or build error: it names the scenario and the line
// and wraps both ErrScenario and its cause.
type lineError struct {
	name string
	line int
	err  error
}

func (e *lineError) Error() string   { return fmt.Sprintf("%s:%d: %v", e.name, e.line, e.err) }
func (e *lineError) Unwrap() []error { return []error{ErrScenario, e.err} }

func (s *Scenario) errAt(line int, err error) error {
	return &lineError{name: s.Name, line: line, err: err}
}

// World returns a fresh world built from the scenario: its machines and
// units added and its operations scheduled, ready for RunUntil.
func (s *Scenario) World() (*World, error) {
	w, err := New(s.Config)
	if err != nil {
		return nil, s.errAt(s.clusterLine, err)
	}
	for _, m := range s.machines {
		if err := w.AddMachine(m.id, m.meta); err != nil {
			return nil, s.errAt(m.line, err)
		}
	}
	for _, u := range s.units {
		if err := w.AddUnit(u.name, u.opts, u.state); err != nil {
			return nil, s.errAt(u.line, err)
		}
		if err := w.SetBehaviour(u.name, u.beh); err != nil {
			return nil, s.errAt(u.line, err)
		}
	}
	for _, o := range s.ops {
		if err := w.At(o.at, o.op); err != nil {
			return nil, s.errAt(o.line, err)
		}
	}
	return w, nil
}

// Run builds the world, runs it until Until and checks the asserts. The
// error is for a scenario that cannot be built; failed asserts come back
// in the slice, one per assert.
func (s *Scenario) Run() (Result, []error, error) {
	w, err := s.World()
	if err != nil {
		return Result{}, nil, err
	}
	w.RunUntil(s.Until)
	r := w.Result()
	return r, s.Check(r), nil
}

// Check evaluates the assert lines against a result. Each error names the
// scenario, the assert's line, the assert and what the run gave instead.
func (s *Scenario) Check(r Result) []error {
	var errs []error
	for _, a := range s.asserts {
		got, ok := a.eval(&r)
		if ok {
			continue
		}
		if a.kind == assertLiveness {
			got = s.livenessNote()
		}
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", s.Name, a.line, a.String(), got))
	}
	return errs
}

// livenessNote says why liveness was not checked: the check comes one
// liveness bound (from the Config) after the last operation settles.
func (s *Scenario) livenessNote() string {
	last := time.Duration(0)
	for _, o := range s.ops {
		if end := o.at + o.op.For; end > last {
			last = end
		}
	}
	bound := s.Config.LivenessBound()
	return fmt.Sprintf("not checked: the last operation settles at %v; plus the liveness bound (%v) is after run until %v",
		shortdur.Format(last), bound, shortdur.Format(s.Until))
}
