package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// ip runs the ip command on the host.
func ip(args ...string) error {
	_, err := ipOutput(args...)
	return err
}

// ipOutput runs the ip command on the host and returns its output; its
// error carries what ip said.
func ipOutput(args ...string) (string, error) {
	cmd := exec.Command("ip", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// links returns the names of the host's network interfaces.
func links() ([]string, error) {
	out, err := ipOutput("-o", "link", "show")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		names = append(names, name)
	}
	return names, nil
}

// linkExists reports whether the host has an interface called name.
func linkExists(name string) (bool, error) {
	names, err := links()
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

// delLink deletes interface name if it exists (a veth takes its peer
// with it). A veth may vanish between the look and the delete, when the
// namespace holding its peer ends: that is not an error.
func delLink(name string) error {
	ok, err := linkExists(name)
	if err != nil || !ok {
		return err
	}
	if err := ip("link", "del", name); err != nil {
		if still, lerr := linkExists(name); lerr == nil && !still {
			return nil
		}
		return err
	}
	return nil
}

// addBridge makes bridge name with address cidr, a fixed MAC (so that it
// does not change as ports come and go) and no spanning tree, and sets
// it up. A bridge of that name left by an earlier lab is replaced.
func addBridge(name, cidr string) error {
	if err := delLink(name); err != nil {
		return err
	}
	if err := ip("link", "add", name, "type", "bridge", "stp_state", "0"); err != nil {
		return err
	}
	subnet := strings.Split(cidr, "/")[0]
	o := strings.Split(subnet, ".")
	mac := "02:77:" + hexOctet(o[0]) + ":" + hexOctet(o[1]) + ":" + hexOctet(o[2]) + ":01"
	for _, args := range [][]string{
		{"link", "set", name, "address", mac},
		{"addr", "add", cidr, "dev", name},
		{"link", "set", name, "up"},
	} {
		if err := ip(args...); err != nil {
			return err
		}
	}
	return nil
}

// addVeth makes a veth pair: host, attached to bridge and up, and peer,
// with MAC mac, left for the caller to move into a machine. A host
// interface of that name left by an earlier boot is replaced.
func addVeth(host, peer, mac, bridge string) error {
	if err := delLink(host); err != nil {
		return err
	}
	if err := delLink(peer); err != nil {
		return err
	}
	if err := ip("link", "add", host, "type", "veth", "peer", "name", peer, "address", mac); err != nil {
		return err
	}
	if err := ip("link", "set", host, "master", bridge, "up"); err != nil {
		return errors.Join(err, delLink(host))
	}
	return nil
}

// checkSubnetFree refuses a subnet that the host already uses outside
// the lab's own bridge: the lab must not capture anyone's traffic.
func checkSubnetFree(subnet, bridge string) error {
	out, err := ipOutput("-o", "-4", "addr", "show")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[1] != bridge && strings.HasPrefix(f[3], subnet+".") {
			return fmt.Errorf("cluster: subnet %s.0/24 is in use on this host (%s has %s); choose another", subnet, f[1], f[3])
		}
	}
	routes, err := ipOutput("-4", "route", "show")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(routes, "\n") {
		if strings.HasPrefix(line, subnet+".") && !strings.Contains(line, "dev "+bridge+" ") {
			return fmt.Errorf("cluster: the host already routes into %s.0/24 (%s); choose another subnet", subnet, strings.TrimSpace(line))
		}
	}
	return nil
}

func hexOctet(s string) string {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return fmt.Sprintf("%02x", n)
}
