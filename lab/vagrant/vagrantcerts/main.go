// Command vagrantcerts writes the Vagrant lab's CA and certificates
// (make vagrant-certs): vagrantcerts DIR NAME=IP...
package main

import (
	"fmt"
	"os"

	"github.com/fleetsim/fleet/lab/vagrant"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: vagrantcerts DIR NAME=IP... (like .vagrant/fleet-tls core-01=172.17.8.101)")
		os.Exit(2)
	}
	made, err := vagrant.WriteCerts(os.Args[1], os.Args[2:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "vagrantcerts: %v\n", err)
		os.Exit(1)
	}
	if !made {
		fmt.Printf("%s has a CA already: kept (remove it to make new certificates)\n", os.Args[1])
		return
	}
	fmt.Printf("%s: ca.pem, a certificate for each machine, and fleetctl.pem, fleetctl-key.pem for this host\n", os.Args[1])
}
