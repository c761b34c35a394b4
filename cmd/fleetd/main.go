// Command fleetd is the fleet daemon: run one on every machine of the
// cluster. See the fleetd package for what it does.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}
