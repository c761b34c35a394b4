// Package soak runs fleet for a while on the local lab and checks that
// nothing keeps growing: a bounded churn (submit, start, stop and
// destroy of units whose bodies are all different, machines killed and
// booted again) against a lab of four machines with etcd over TLS, with
// etcd's database size, its key count, and the RSS and goroutines of a
// fleetd that lives through it all sampled at the start, the middle and
// the end. `make soak` runs it (SOAK=1; SOAK_DURATION, default 5m); it
// needs root on Linux, as the lab does.
package soak
