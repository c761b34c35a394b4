// Package sim is a deterministic discrete-event simulator of a fleet
// cluster. It runs fleetd's own decisions, not a model of them: every
// virtual machine drives the real agent step (agent.Step, which plans with
// agent.Plan) over a simulated systemd, and the machine that wins the
// simulated election drives the real leader step (engine/leader, which
// plans with scheduler.Plan) over a simulated registry. The simulator
// only moves data, as fleetd's drivers (agent/runner, engine) do over
// D-Bus and etcd:
//
//	code                                  fleetd             simulator
//	scheduler, unit, agent.Plan           runs it            runs it
//	agent.Step, engine/leader             runs it            runs it
//	registry                              etcd v3            virtual: leases, revisions, guards,
//	                                                         latency, lost answers, lost and silent watches,
//	                                                         bodies that do not decode
//	systemd                               D-Bus              virtual: starts that hang or are slow,
//	                                                         programs that exit or fail, Restart=
//	                                                         and its start limit, files it refuses
//	time                                  wall clock         virtual clock, one goroutine
//
// Faults (crashes, partitions, leader loss, slow registry, lost
// heartbeats, lost commit answers and body reads, lost or silent watches,
// clock skew) are injected
// at chosen virtual times. Safety is checked after every commit, the
// agents' invariants (a due start is queued within an agent interval; no
// unit is started again after it ended on its own unless launched anew)
// at every agent tick, and liveness once the faults stop.
//
// Everything runs on one goroutine. Time is virtual, randomness comes from
// a seeded generator split per subsystem, and no outcome depends on map
// iteration order: the same Config, units and faults give the same trace
// hash on every run.
package sim
