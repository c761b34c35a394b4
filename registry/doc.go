// Package registry holds the cluster's state in etcd: unit bodies stored
// once by content hash, the desired state of each unit, the schedule kept
// per machine (so that each agent watches only its own part), unit states
// per (unit, machine) tied to that machine's lease, machines with a lease
// of agent_ttl, and their dynamic metadata.
//
// Every key lives under one prefix (fleet's /_coreos.com/fleet/ by
// default). The engine's schedule writes go through Commit, in batched
// transactions guarded by its leadership, so a deposed leader's write
// fails instead of landing.
package registry
