// Package sim is a deterministic discrete-event simulator of a fleet
// cluster. Thousands of virtual machines run the real agent planner over a
// simulated systemd, heartbeat leases in a simulated registry and elect an
// engine leader whose reconcile calls the real scheduler, exactly as
// fleetd does. Faults (crashes, partitions, leader loss, slow registry,
// lost heartbeats, clock skew) are injected at chosen virtual times, and
// safety is checked after every commit while liveness is checked once the
// faults stop.
//
// Everything runs on one goroutine. Time is virtual, randomness comes from
// a seeded generator split per subsystem, and no outcome depends on map
// iteration order: the same Config, units and faults give the same trace
// hash on every run.
package sim
