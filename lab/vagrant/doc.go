// Package vagrant holds the Vagrant lab's provisioning files, used by
// the Vagrantfile at the top of the repository: provision.sh installs
// fleetd, fleetctl, /etc/fleet/fleet.conf and fleetd.service on a
// Flatcar machine, with the certificates WriteCerts made on the host
// (make vagrant-certs, through ./vagrantcerts). box/build.sh (make
// vagrant-box) builds the local box FLEET_BOX=local boots in place of
// Flatcar: Debian 12 from Debian's packages, for libvirt, cached. Its tests check the Vagrantfile (ruby -c, vagrant
// validate --ignore-provider), the script (bash -n, and the fleet.conf it
// writes, read back by fleetd's own configuration reader) and the unit
// (systemd-analyze verify); a missing tool skips its check, except in CI
// (CI=true), where it fails.
package vagrant
