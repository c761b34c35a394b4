// Package registry holds the cluster's state in etcd: unit bodies stored
// once by content hash and referenced by each job that uses one (a body
// goes with its last reference), the desired state of each unit, the
// schedule kept per machine (so that each agent watches only its own
// part), unit states per (unit, machine) tied to that machine's lease,
// machines with a lease of agent_ttl, and their dynamic metadata.
//
// Every key lives under one prefix (fleet's /_coreos.com/fleet/ by
// default). The engine's schedule writes go through Commit, in batched
// transactions guarded by its leadership, so a deposed leader's write
// fails instead of landing. Every read-modify-write of a job is
// conditional on the job's ModRevision.
//
// The API's listings page through a Listing: a copy of the jobs, bodies,
// schedule and unit states in name order, loaded on first use, kept by
// one watch while used and dropped when not, whose reads wait until it
// has caught up with etcd (read your writes), so a page costs its length
// whatever the cluster's size. Machines are paged with range reads that
// start at the page token (MachinesAfter).
//
// A record that does not decode is never fatal: listings and the
// engine's cluster copy skip it, log it once and count it, and say which
// they skipped (View.Corrupt, ListJobs).
package registry
