// Package unit reads systemd unit files the way fleet does: it parses and
// canonically serializes them, hashes their content, validates unit names
// (templates and instances included), keeps names from escaping a units
// directory, and reads the [X-Fleet] section into typed Requirements that
// the scheduler, the agent and fleetctl all share.
//
// The package does no I/O beyond reading from an io.Reader handed to it.
package unit
