// Command fleetctl is the command line of fleet, the cluster-wide init
// system: see package fleetctl.
package main

import (
	"os"

	"github.com/fleetsim/fleet/fleetctl"
)

func main() {
	os.Exit(fleetctl.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}
