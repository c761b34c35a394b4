// Package parity replays the simulator's scenario files on fleetd's own
// stack: every machine runs fleetd's engine (engine, over the leader step)
// and agent loop (agent/runner, over the agent step) against one real
// embedded etcd, each through a TCP proxy of its own (so a partition cuts
// it off), with the in-memory systemd (agent/memsd), in real time with the
// scenario's timings scaled down. It compares the final placements with
// the simulator's, and checks the scenario's asserts that the real stack
// measures (running, unscheduled, violations, left_out, liveness).
//
// What the real stack cannot do (skew a clock, slow or lose etcd's
// answers, lose a watch on demand, programs that exit or fail in memsd) is
// named as the reason a scenario does not run.
package parity
