package vagrant

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

const loopService = `[Unit]
Description=%s

[Service]
ExecStart=/bin/sh -c "while true; do echo Hello World; sleep 1; done"
`

// idleService runs without doing anything. The scale check starts 100 of
// them: a hundred of the loops above would fork a hundred processes a
// second, more than three emulated CPUs can run, and the figure would be
// the VMs' and not fleet's.
const idleService = `[Unit]
Description=%s

[Service]
ExecStart=/bin/sleep infinity
`

// lifecycle is the seeds' story on real VMs: submit, load, start, the
// listings, cat, status and journal, stop, unload, destroy.
func (r *vagrantRun) lifecycle() {
	r.unitFile("hello.service", fmt.Sprintf(loopService, "Hello World"))
	steps := []struct {
		name string
		args []string
		want string
	}{
		{"submit", []string{"submit", "hello.service"}, ""},
		{"list-unit-files after submit", []string{"list-unit-files"}, "inactive"},
		{"load", []string{"load", "hello.service"}, "loaded on"},
		{"start", []string{"start", "hello.service"}, "launched on"},
		{"list-unit-files after start", []string{"list-unit-files"}, "launched"},
		{"list-units: active on a VM's address", []string{"list-units"}, "172.17.8.10"},
		{"cat", []string{"cat", "hello.service"}, "ExecStart=/bin/sh -c"},
		{"status: the VM's systemd", []string{"status", "hello.service"}, "active (running)"},
		{"journal: the VM's journal", []string{"journal", "--lines", "5", "hello.service"}, "Hello World"},
		{"stop", []string{"stop", "hello.service"}, "loaded on"},
		{"unload", []string{"unload", "hello.service"}, "inactive"},
		{"destroy", []string{"destroy", "hello.service"}, "Destroyed hello.service"},
	}
	for _, s := range steps {
		r.check("lifecycle: "+s.name, func() error {
			// The journal may take a moment to hold the first lines.
			_, err := waitFor(time.Minute, func() (bool, string) {
				out, err := r.fleetctl(s.args...)
				if err != nil {
					return false, err.Error()
				}
				return strings.Contains(out, s.want), fmt.Sprintf("no %q in\n%s", s.want, out)
			})
			return err
		})
	}
	r.check("lifecycle: gone from the listings", func() error {
		out, err := r.fleetctl("list-unit-files", "--no-legend")
		if err == nil && strings.Contains(out, "hello.service") {
			err = fmt.Errorf("hello.service still listed:\n%s", out)
		}
		return err
	})
}

// spread starts three instances of a template that conflict with each
// other: one on each VM.
func (r *vagrantRun) spread() {
	r.unitFile("spread@.service", fmt.Sprintf(loopService, "spread %i")+"\n[X-Fleet]\nConflicts=spread@*.service\n")
	r.check("Conflicts: spread@{1..3} on three different VMs", func() error {
		if _, err := r.fleetctl("start", "spread@1.service", "spread@2.service", "spread@3.service"); err != nil {
			return err
		}
		_, err := waitFor(3*time.Minute, func() (bool, string) {
			at, err := r.listUnits()
			if err != nil {
				return false, err.Error()
			}
			hosts := map[string]bool{}
			for i := 1; i <= 3; i++ {
				ips := at[fmt.Sprintf("spread@%d.service", i)]
				if len(ips) != 1 {
					return false, fmt.Sprintf("spread@%d active on %v", i, ips)
				}
				hosts[ips[0]] = true
			}
			return len(hosts) == 3, fmt.Sprintf("on %d VMs: %v", len(hosts), at)
		})
		return err
	})
	r.check("Conflicts: destroyed", func() error {
		_, err := r.fleetctl("destroy", "spread@1.service", "spread@2.service", "spread@3.service")
		return err
	})
}

// global runs a Global unit, which every VM runs.
func (r *vagrantRun) global() {
	r.unitFile("everywhere.service", fmt.Sprintf(loopService, "on every machine")+"\n[X-Fleet]\nGlobal=true\n")
	r.check("Global: everywhere.service active on the three VMs", func() error {
		if _, err := r.fleetctl("start", "everywhere.service"); err != nil {
			return err
		}
		_, err := waitFor(3*time.Minute, func() (bool, string) {
			at, err := r.listUnits()
			if err != nil {
				return false, err.Error()
			}
			return len(at["everywhere.service"]) == 3, fmt.Sprintf("active on %v", at["everywhere.service"])
		})
		return err
	})
	r.check("Global: destroyed", func() error {
		_, err := r.fleetctl("destroy", "everywhere.service")
		return err
	})
}

// crash destroys the domain of the VM running most units (not core-01,
// whose API fleetctl talks to), measures how long its units take to run
// again on the others, boots it again and waits for it to rejoin.
func (r *vagrantRun) crash() {
	names := []string{}
	for i := 1; i <= 6; i++ {
		names = append(names, fmt.Sprintf("crash%d.service", i))
		r.unitFile(names[i-1], fmt.Sprintf(loopService, "crash test"))
	}
	var at map[string][]string
	if !r.check("failover: six units started", func() error {
		if _, err := r.fleetctl(append([]string{"start"}, names...)...); err != nil {
			return err
		}
		_, err := waitFor(3*time.Minute, func() (bool, string) {
			var err error
			if at, err = r.listUnits(); err != nil {
				return false, err.Error()
			}
			for _, n := range names {
				if len(at[n]) != 1 {
					return false, fmt.Sprintf("%s active on %v", n, at[n])
				}
			}
			return true, ""
		})
		return err
	}) {
		return
	}
	victim, moving := busiestOff(at, "172.17.8.101")
	machine := map[string]string{"172.17.8.102": "core-02", "172.17.8.103": "core-03"}[victim]
	r.check(fmt.Sprintf("failover: %s's domain destroyed, its %d units active on the others", machine, len(moving)), func() error {
		if machine == "" {
			return errors.New("no unit on core-02 or core-03")
		}
		id, err := os.ReadFile(filepath.Join(r.root, ".vagrant", "machines", machine, "libvirt", "id"))
		if err != nil {
			return fmt.Errorf("the domain of %s: %w", machine, err)
		}
		start := time.Now()
		if out, err := exec.Command("virsh", "-c", "qemu:///system", "destroy", strings.TrimSpace(string(id))).CombinedOutput(); err != nil {
			return fmt.Errorf("virsh destroy: %w\n%s", err, out)
		}
		_, err = waitFor(vagrantAgentTTL+vagrantSlack+time.Minute, func() (bool, string) {
			at, err := r.listUnits()
			if err != nil {
				return false, err.Error()
			}
			for _, n := range moving {
				if len(at[n]) != 1 || at[n][0] == victim {
					return false, fmt.Sprintf("%s active on %v", n, at[n])
				}
			}
			return true, ""
		})
		if err == nil {
			// From the moment the domain is destroyed (virsh's own second
			// or so included), as the line below says.
			took := time.Since(start)
			r.figures = append(r.figures, fmt.Sprintf("failover %.1f s (agent_ttl %v)", took.Seconds(), vagrantAgentTTL))
			fmt.Printf("     %d units of %s active elsewhere %.1f s after its domain was destroyed\n", len(moving), machine, took.Seconds())
		}
		return err
	})
	r.check(fmt.Sprintf("failover: %s booted again rejoins", machine), func() error {
		start := time.Now()
		if _, err := r.vagrant(20*time.Minute, "up", "--provider=libvirt", machine); err != nil {
			return err
		}
		r.figures = append(r.figures, fmt.Sprintf("one VM booted again %d s", int(time.Since(start).Seconds())))
		_, err := waitFor(5*time.Minute, func() (bool, string) {
			out, err := r.fleetctl("list-machines", "--no-legend")
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(out, victim), "not listed:\n" + out
		})
		return err
	})
	r.check("failover: destroyed", func() error {
		_, err := r.fleetctl(append([]string{"destroy"}, names...)...)
		return err
	})
}

// busiestOff returns the address, other than skip, running the most of
// the units in at, and those units.
func busiestOff(at map[string][]string, skip string) (string, []string) {
	by := map[string][]string{}
	for n, ips := range at {
		if len(ips) == 1 && ips[0] != skip {
			by[ips[0]] = append(by[ips[0]], n)
		}
	}
	best := ""
	for ip, ns := range by {
		if best == "" || len(ns) > len(by[best]) || len(ns) == len(by[best]) && ip < best {
			best = ip
		}
	}
	sort.Strings(by[best])
	return best, by[best]
}

// destroy tears the cluster down and checks that libvirt holds nothing
// of it.
func (r *vagrantRun) destroy() {
	r.check("vagrant destroy -f: no domain, network or volume left", func() error {
		if _, err := r.vagrant(10*time.Minute, "destroy", "-f"); err != nil {
			return err
		}
		var left []string
		for _, q := range [][]string{{"list", "--all", "--name"}, {"vol-list", "default"}} {
			for _, name := range virshNames(q...) {
				for _, m := range r.machines {
					if strings.Contains(name, m) {
						left = append(left, q[0]+": "+name)
					}
				}
			}
		}
		for _, n := range virshNames("net-list", "--all", "--name") {
			if !r.netsBefore[n] {
				left = append(left, "network "+n)
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("left behind: %v", left)
		}
		return nil
	})
}

// virshNames returns the first word of each line virsh prints for args,
// headers and rules left out ("" when libvirt has nothing: an empty
// pool is no error either).
func virshNames(args ...string) []string {
	out, _ := exec.Command("virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput() // best effort: nothing listed is nothing left
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "Name" || strings.HasPrefix(f[0], "---") {
			continue
		}
		names = append(names, f[0])
	}
	return names
}

// hundred starts 100 instances of a template and times them until all
// are active, spread over the three VMs.
func (r *vagrantRun) hundred() {
	r.unitFile("many@.service", fmt.Sprintf(idleService, "many %i"))
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("many@%d.service", i+1)
	}
	r.check("scale: 100 units started", func() error {
		start := time.Now()
		// As an operator would: a command that fails on a timeout is run
		// again (starting what is started already changes nothing).
		var err error
		for try := 1; try <= 3; try++ {
			if _, err = r.fleetctlWithin(15*time.Minute, append([]string{"start", "--no-block"}, names...)...); err == nil {
				break
			}
			fmt.Printf("     fleetctl start, try %d: %s\n", try, lastLine(err.Error()))
		}
		if err != nil {
			return err
		}
		_, err = waitFor(15*time.Minute, func() (bool, string) {
			at, err := r.listUnits()
			if err != nil {
				return false, err.Error()
			}
			n := 0
			for _, name := range names {
				if len(at[name]) == 1 {
					n++
				}
			}
			return n == len(names), fmt.Sprintf("%d of %d active", n, len(names))
		})
		if err == nil {
			took := time.Since(start)
			r.figures = append(r.figures, fmt.Sprintf("100 units started %.1f s", took.Seconds()))
			fmt.Printf("     100 units active %.1f s after fleetctl start\n", took.Seconds())
		}
		return err
	})
	r.check("scale: 100 units destroyed", func() error {
		_, err := r.fleetctlWithin(15*time.Minute, append([]string{"destroy"}, names...)...)
		return err
	})
}

// lastLine returns the last line of s that is not blank: what fleetctl
// said last.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
