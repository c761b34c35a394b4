// Package fleetctl is the daily-operations command line of fleet: submit,
// load, start, stop, unload and destroy units, list units, unit files and
// machines, and ask the scheduler where a unit would go (plan).
//
// It speaks fleet's HTTP API v1 to a fleetd (--driver=API, the default,
// over a unix socket, http or https), or reads and writes the registry in
// etcd directly (--driver=etcd) through the same API handler run in
// process, so both drivers behave alike. Commands, flags, columns and
// messages are fleet v1.0.0's; where fleet hung or showed nothing (an
// unschedulable unit, a global unit's state) this one says why.
//
// SSH (golang.org/x/crypto/ssh) is used twice, as in fleet: --tunnel
// reaches the endpoint through another host, and the ssh command runs a
// command or a shell on a machine. Host keys are checked against
// --known-hosts-file.
//
// Each command lives in its own file with a constructor and a struct for
// its flags; output goes to the writers Main is given, and errors come
// back to Main, which alone picks the exit code: 0 success, 1 a runtime
// failure, 2 a usage error; ssh exits with its remote command's status.
package fleetctl
