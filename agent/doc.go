// Package agent holds the per-machine side of fleet: the agent that makes
// a machine's systemd match the part of the cluster schedule that names
// this machine.
//
// The heart of the package is Plan, a pure reconciler. It compares the
// units the cluster wants here (DesiredUnit: content hash, port, desired
// state) with what the machine has (CurrentUnit: the installed unit file
// and systemd's load and active states) and returns an ordered list of
// Tasks for an executor to carry out against systemd:
//
//  1. stop    units that must go or be replaced and are still running
//  2. unload  units not scheduled here, or whose content or port changed
//  3. load    units missing, replaced, or not loaded by systemd
//  4. daemon-reload, once, if anything was loaded or unloaded
//  5. stop    units desired "loaded" that are running
//  6. start   units desired "launched" that are inactive or failed
//
// Plan does no I/O, reads no clock, starts no goroutine and never depends
// on map iteration order, so the same call serves the real daemon (over
// D-Bus) and the deterministic simulator (over a simulated systemd): same
// input, same tasks, byte for byte. Applying the tasks and planning again
// yields no tasks.
package agent
