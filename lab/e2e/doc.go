// Package e2e holds the end-to-end tests: fleet on the local lab
// (lab/cluster), real systemd, real network namespaces, real failures,
// driven by the real fleetctl and observed through fleetd's API and the
// machines' own systemd. They need root on Linux and skip otherwise (and
// with -short). TestMain boots one lab for the whole package, four
// machines (three etcd members and one etcd client) on the bridge
// fleete2e0, 10.77.1.0/24, with agent_ttl 5s, engine_reconcile_interval
// 1s and engine_leader_ttl 5s; each test puts back what it broke.
package e2e
