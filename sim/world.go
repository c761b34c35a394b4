package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/scheduler"
	"github.com/fleetsim/fleet/unit"
)

// World is one simulated cluster. Build it with New, AddMachine, AddUnit
// and At, then call RunUntil (as often as wanted) and Result.
type World struct {
	cfg   Config
	now   time.Duration
	seq   uint64
	queue eventQueue
	trace uint64

	rngLatency, rngStart, rngCrash, rngLoss, rngPhase *rand.Rand

	machines []*machine
	mpos     map[string]int32
	units    []*simUnit
	byName   []int32 // unit positions in name order
	// jobs is the leader's view of the units, built again only after
	// jobsVer moved (a unit added, a desired state set): a view's slices
	// are never changed once given.
	jobs      []leader.Job
	jobsVer   uint64
	jobsBuilt uint64
	byID      []int32 // machine positions in ID order
	rank      []int32 // per machine: its position in byID
	// buffers of eachPlacement, kept between plans
	placeStart []int32
	placeBuf   []placed
	// buffers of the agents' reads, kept between reads
	desiredBuf []agent.DesiredUnit
	currentBuf []agent.CurrentUnit
	// agentScratch is the working space of every machine's agent step:
	// one goroutine drives them all.
	agentScratch agent.Scratch
	upos         map[string]int32
	byHash       map[unit.Hash]int32 // a unit with that body, for the leaders' reads
	awaiting     map[string][]int32  // MachineOf names not yet added -> their followers
	reg          registry
	lastPlan     *scheduler.Plan      // the last plan any leader made
	leftOut      []string             // the units it left out
	sched        *scheduler.Scheduler // the liveness check's, apart from the leaders'

	ops     []Op
	opAt    []time.Duration // when each op is scheduled
	faults  []FaultMark
	commits []commit
	lastOp  time.Duration
	started bool
	// killedLeaders are the machines kill-leader crashed, in order
	killedLeaders []string

	stats    stats
	progress func(Progress)
	every    uint64
}

// simUnit is a unit in the registry.
type simUnit struct {
	name      string
	hash      unit.Hash
	desired   unit.State
	opts      []unit.Option // the body
	req       unit.Requirements
	global    bool
	beh       Behaviour
	launches  uint32 // how many times its desired state became launched
	removed   bool
	followers []int32 // units naming this one in MachineOf
	running   int32   // machines where it is active
	lostAt    time.Duration
	lost      bool // its machine died while it ran: waiting to run again
}

// Progress is what a progress callback sees.
type Progress struct {
	Now    time.Duration // virtual time
	Events uint64        // events processed so far
}

// New returns an empty world. It does no I/O.
func New(cfg Config) (*World, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	w := &World{
		cfg:        cfg,
		mpos:       map[string]int32{},
		upos:       map[string]int32{},
		awaiting:   map[string][]int32{},
		byHash:     map[unit.Hash]int32{},
		sched:      scheduler.New(),
		rngLatency: newRand(cfg.Seed, "latency"),
		rngStart:   newRand(cfg.Seed, "start"),
		rngCrash:   newRand(cfg.Seed, "crash"),
		rngLoss:    newRand(cfg.Seed, "loss"),
		rngPhase:   newRand(cfg.Seed, "phase"),
		trace:      fnvOffset,
	}
	w.reg.leader = -1
	return w, nil
}

// Config returns the configuration in force, defaults filled in.
func (w *World) Config() Config { return w.cfg }

// Now returns the virtual time.
func (w *World) Now() time.Duration { return w.now }

// OnProgress calls f every `every` events while running.
func (w *World) OnProgress(every uint64, f func(Progress)) { w.every, w.progress = every, f }

// AddMachine adds a machine that boots at the current virtual time.
func (w *World) AddMachine(id string, metadata map[string]string) error {
	if id == "" {
		return fmt.Errorf("sim: empty machine ID")
	}
	if _, dup := w.mpos[id]; dup {
		return fmt.Errorf("sim: machine %s already exists", id)
	}
	m := &machine{id: id, meta: copyMeta(metadata)}
	i := int32(len(w.machines))
	w.machines = append(w.machines, m)
	w.mpos[id] = i
	w.reg.addMachine()
	m.phase = jitter(w.rngPhase, w.cfg.EngineInterval)
	if w.started {
		w.boot(i)
	}
	return nil
}

// AddUnit submits a unit with its [X-Fleet] options in the given state.
func (w *World) AddUnit(name string, opts []unit.Option, desired unit.State) error {
	if _, dup := w.upos[name]; dup {
		return fmt.Errorf("sim: unit %s already exists", name)
	}
	req, _, err := unit.ParseRequirements(name, opts)
	if err != nil {
		return fmt.Errorf("sim: unit %s: %w", name, err)
	}
	if n, _ := unit.ParseName(name); n.IsTemplate() && desired.Active() {
		return fmt.Errorf("sim: unit %s: a template cannot be %s", name, desired)
	}
	f, err := unit.NewFile(append([]unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/true " + name}}, opts...))
	if err != nil {
		return fmt.Errorf("sim: unit %s: %w", name, err)
	}
	u := &simUnit{name: name, hash: f.Hash(), desired: desired, opts: f.Options, req: req, global: req.Global}
	i := int32(len(w.units))
	w.units = append(w.units, u)
	w.jobsVer++
	w.upos[name] = i
	if desired == unit.StateLaunched {
		u.launches = 1
	}
	if _, ok := w.byHash[u.hash]; !ok {
		w.byHash[u.hash] = i
	}
	w.reg.addUnit()
	for _, peer := range req.MachineOf {
		if p, ok := w.upos[peer]; ok {
			w.units[p].followers = append(w.units[p].followers, i)
		} else {
			w.awaiting[peer] = append(w.awaiting[peer], i)
		}
	}
	u.followers = append(u.followers, w.awaiting[name]...)
	delete(w.awaiting, name)
	w.reg.bump()
	return nil
}

// MachineIDs returns the machines' IDs in the order they were added.
func (w *World) MachineIDs() []string {
	out := make([]string, len(w.machines))
	for i, m := range w.machines {
		out[i] = m.id
	}
	return out
}

// schedule queues an event at now+after for machine a.
func (w *World) schedule(after time.Duration, kind evKind, a, b int32) {
	inc := uint32(0)
	if a >= 0 && int(a) < len(w.machines) && kind != evOp {
		inc = w.machines[a].inc
	}
	w.seq++
	w.queue.push(event{at: w.now + after, seq: w.seq, kind: kind, a: a, b: b, inc: inc})
}

// start boots every machine and the periodic samplers on the first run.
func (w *World) start() {
	w.started = true
	for i := range w.machines {
		w.boot(int32(i))
	}
	w.schedule(0, evLeaseCheck, -1, 0)
	w.schedule(0, evSample, -1, 0)
	if bound := w.livenessAt(); bound >= 0 {
		w.seq++
		w.queue.push(event{at: bound, seq: w.seq, kind: evLiveness, a: -1})
	}
}

// RunUntil processes events up to virtual time t (inclusive).
func (w *World) RunUntil(t time.Duration) {
	if !w.started {
		w.start()
	}
	for {
		e, ok := w.queue.popUntil(t)
		if !ok {
			break
		}
		w.advance(e.at)
		w.fold(&e)
		w.dispatch(&e)
		w.stats.events++
		if w.progress != nil && w.every > 0 && w.stats.events%w.every == 0 {
			w.progress(Progress{Now: w.now, Events: w.stats.events})
		}
	}
	w.advance(t)
}

// advance moves the clock, integrating the time-weighted measures.
func (w *World) advance(t time.Duration) {
	if t <= w.now {
		return
	}
	w.stats.doubleRun += time.Duration(w.stats.extraCopies) * (t - w.now)
	w.now = t
}

// stale reports whether an event was meant for an earlier incarnation of
// its machine.
func (w *World) stale(e *event) bool {
	return e.a >= 0 && int(e.a) < len(w.machines) && e.kind != evOp && w.machines[e.a].inc != e.inc
}

func (w *World) dispatch(e *event) {
	if w.stale(e) {
		return
	}
	switch e.kind {
	case evHeartbeat:
		w.heartbeat(e.a)
	case evHeartbeatArrive:
		w.heartbeatArrive(e.a)
	case evAgentTick:
		w.agentTick(e.a)
	case evAgentWake:
		w.agentWake(e.a)
	case evUnitStarted:
		w.unitStarted(e.a, e.b, e.c)
	case evUnitCrash:
		w.unitCrash(e.a, e.b, e.c)
	case evUnitRestart:
		w.unitRestart(e.a, e.b, e.c)
	case evAgentRelist:
		w.agentRelist(e.a)
	case evEngineTick:
		w.engineTick(e.a)
	case evLeaseCheck:
		w.leaseCheck()
	case evCommitArrive:
		w.commitArrive(e.b)
	case evRenewArrive:
		w.renewArrive(e.a)
	case evOp:
		w.applyOp(e.b)
	case evSample:
		w.sample()
	case evLiveness:
		w.checkLiveness()
	}
}

// latency draws one registry round's one-way latency.
func (w *World) latency() time.Duration {
	d := w.cfg.Latency + jitter(w.rngLatency, w.cfg.LatencyJitter)
	if w.now < w.reg.slowUntil {
		d += w.reg.slowExtra
	}
	return d
}

func copyMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
