// Package unit reads systemd unit files the way fleet does: it parses and
// canonically serializes them, hashes their content, validates unit names
// (templates and instances included), keeps names from escaping a units
// directory, and reads the [X-Fleet] section into typed Requirements that
// the scheduler, the agent and fleetctl all share.
//
// Input is canonical: Parse reads a file as systemd's own parser does
// (lines up to systemd's LONG_LINE_MAX, continuations, comments), and
// NewFile accepts only options that systemd reads back exactly as they
// are, so that on accepted input Parse inverts Serialize and the content
// hash covers exactly what is stored. CheckSubmission is the one check of
// a submitted unit, shared by the API and fleetctl: it adds the names a
// machine cannot lose (CheckSubmittable) and the [X-Fleet] rules.
// Specifiers (%n %N %p %i) in [X-Fleet] are resolved with each unit's own
// name; a template, which has no instance, is checked as its instance
// SampleInstance, and each instance is resolved when it is scheduled.
//
// The package does no I/O beyond reading from an io.Reader handed to it.
package unit
