// Package scheduler is the pure core of fleet: it decides which machine
// each unit runs on.
//
// A Scheduler takes a Snapshot (machines, units, current placements) and
// returns a Plan: typed actions (schedule, unschedule, move), each with a
// Reason, and the reason for every active unit it could not place. It does
// no I/O, reads no clock, starts no goroutine and never depends on map
// iteration order, so the simulator and the daemon get the same answer for
// the same cluster. README.md in this directory states the algorithm.
package scheduler
