package sim

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
)

// Swarm returns a generated scenario: machines machines with metadata,
// about units units of every kind (templates spread by Conflicts,
// MachineOf chains, MachineMetadata with every operator, Global, Replaces,
// Ports, some loaded or inactive) and a random mix of faults and operator
// actions drawn from seed (crash, rejoin, partition and heal, leader loss,
// slow registry, lost heartbeats, clock skew, commits' answers lost,
// schedule watches lost, a machine joining, metadata changes, start, stop
// and unload) over the first eight minutes; one unit in ten has a trouble
// (a start that hangs or is slow, a program that exits or fails, with or
// without Restart=, a file systemd refuses, a body that does not decode). Every
// fault is then healed, every machine rejoined and every clock set right,
// so that liveness applies, and the scenario runs for 20 minutes and
// asserts that nothing was violated and liveness was checked. The same
// arguments give the same scenario; String writes it as a file.
func Swarm(seed uint64, machines, units int) *Scenario {
	g := newSwarmGen(rand.New(rand.NewPCG(seed, 0x5377_61726d)), max(machines, 1))
	g.addUnits(max(units, 0))
	g.addFaults(2+g.c.IntN(10), 8*time.Minute)
	return g.scenario(fmt.Sprintf("swarm-%d", seed), seed, 20*time.Minute)
}

// chooser is where a generator's choices come from: a seeded generator
// for Swarm, rapid's draws in the property test (so that failures shrink).
type chooser interface {
	IntN(n int) int
}

// swarmGen writes a scenario's lines while it tracks what the world will
// look like, so that every operation makes sense when it happens.
type swarmGen struct {
	c        chooser
	clusterN int
	machines []string // every machine, joined ones included, in order
	down     map[string]bool
	cut      map[string]bool
	skewed   map[string]bool
	units    []string // every unit name, in order
	lines    []string // unit lines
	ops      []string // at lines, in time order
	lastAt   time.Duration
	windowTo time.Duration // when the last slow or lossy window closes
	anyDown  bool          // a kill-leader happened: which machine is unknown
}

// Cluster metadata, values assigned round-robin, and the requirements
// units draw from (one never matches).
const swarmClusterMeta = "region:eu|us|ap,cpus:2|4|8,disk:ssd|hdd"

var swarmPredicates = []string{"region=eu", "region!=us", "cpus>=4", "cpus<8", "disk=ssd",
	"\"region=eu region=ap\"", "\"region!=ap cpus>2\"", "zone=nowhere"}

func newSwarmGen(c chooser, machines int) *swarmGen {
	g := &swarmGen{c: c, clusterN: machines, down: map[string]bool{}, cut: map[string]bool{}, skewed: map[string]bool{}}
	for i := 1; i <= machines; i++ {
		g.machines = append(g.machines, fmt.Sprintf("m%d", i))
	}
	return g
}

func (g *swarmGen) pick(list []string) string { return list[g.c.IntN(len(list))] }

// swarmBehaviours are the troubles a unit may be drawn with.
var swarmBehaviours = []string{"sim=hangs", "sim=slow", "sim=exits", "sim=fails", "sim=exits Restart=always",
	"sim=fails Restart=on-failure", "sim=refused", "sim=corrupt"}

// unit adds a unit line; names are the expanded names the line defines.
// Some units are loaded or inactive, some are drawn with a trouble.
func (g *swarmGen) unit(line string, names ...string) {
	switch g.c.IntN(12) {
	case 0:
		line = strings.Replace(line, " ", " loaded ", 1)
	case 1:
		line = strings.Replace(line, " ", " inactive ", 1)
	}
	if g.c.IntN(10) == 0 {
		line += " " + g.pick(swarmBehaviours)
	}
	g.lines = append(g.lines, strings.TrimSpace(line))
	g.units = append(g.units, names...)
}

// addUnits adds about n units (a group is never cut short), of every kind.
func (g *swarmGen) addUnits(n int) {
	for k := 1; len(g.units) < n; k++ {
		left := n - len(g.units)
		switch g.c.IntN(8) {
		case 0: // a template spread by Conflicts, sometimes one too many
			g.group(fmt.Sprintf("web%d", k), 1+g.c.IntN(min(left, g.clusterN+1)), "Conflicts=web%d@*", k)
		case 1: // ports from a small range
			base := 20000 + (k%4000)*10
			g.group(fmt.Sprintf("api%d", k), 1+g.c.IntN(min(left, 4)), "Ports=%d-%d", base, base+g.c.IntN(3))
		case 2: // a MachineOf chain of two or three
			db := fmt.Sprintf("db%d.service", k)
			g.unit(fmt.Sprintf("%s ", db), db)
			g.unit(fmt.Sprintf("db%d-cache.service MachineOf=%s", k, db), fmt.Sprintf("db%d-cache.service", k))
			if g.c.IntN(2) == 0 {
				g.unit(fmt.Sprintf("db%d-log.service MachineOf=db%d-cache.service", k, k), fmt.Sprintf("db%d-log.service", k))
			}
		case 3: // metadata
			name := fmt.Sprintf("meta%d.service", k)
			g.unit(fmt.Sprintf("%s MachineMetadata=%s", name, g.pick(swarmPredicates)), name)
		case 4: // a global unit, sometimes only where metadata matches
			name, opts := fmt.Sprintf("global%d.service", k), "Global=true"
			if g.c.IntN(2) == 0 {
				opts += " MachineMetadata=" + g.pick(swarmPredicates)
			}
			g.unit(name+" "+opts, name)
		case 5: // a unit and one that replaces it
			old := fmt.Sprintf("old%d.service", k)
			g.unit(old+" ", old)
			g.unit(fmt.Sprintf("new%d.service Replaces=%s", k, old), fmt.Sprintf("new%d.service", k))
		default:
			name := fmt.Sprintf("app%d.service", k)
			g.unit(name+" ", name)
		}
	}
}

// group adds instances 1..count of a template with the given options.
func (g *swarmGen) group(prefix string, count int, opts string, args ...any) {
	names := make([]string, count)
	for i := range names {
		names[i] = fmt.Sprintf("%s@%d.service", prefix, i+1)
	}
	g.unit(fmt.Sprintf("%s@{1..%d}.service ", prefix, count)+fmt.Sprintf(opts, args...), names...)
}

// addFaults adds n operations at whole seconds between 20s and until.
func (g *swarmGen) addFaults(n int, until time.Duration) {
	span := int((until - 20*time.Second) / time.Second)
	times := make([]int, n)
	for i := range times {
		times[i] = 20 + g.c.IntN(span+1)
	}
	sort.Ints(times)
	for _, sec := range times {
		g.operation(time.Duration(sec) * time.Second)
	}
}

func (g *swarmGen) at(t time.Duration, format string, args ...any) {
	g.ops = append(g.ops, "at "+shortdur.Format(t)+" "+fmt.Sprintf(format, args...))
	g.lastAt = max(g.lastAt, t)
}

// upMachines returns the machines not known to be down, in order.
func (g *swarmGen) upMachines() []string {
	var up []string
	for _, m := range g.machines {
		if !g.down[m] {
			up = append(up, m)
		}
	}
	return up
}

// operation adds one fault or operator action at t.
func (g *swarmGen) operation(t time.Duration) {
	m := g.pick(g.machines)
	window := time.Duration(10+g.c.IntN(81)) * time.Second
	switch g.c.IntN(15) {
	case 0, 1:
		if up := g.upMachines(); len(up) > 1 {
			m = g.pick(up)
			g.down[m] = true
			g.at(t, "kill %s", m)
			return
		}
		g.at(t, "rejoin %s", m)
		g.down[m] = false
	case 2:
		g.down[m] = false
		g.at(t, "rejoin %s", m)
	case 3:
		g.cut[m] = true
		g.at(t, "partition %s", m)
	case 4:
		g.cut[m] = false
		g.at(t, "heal %s", m)
	case 5:
		g.anyDown = true
		g.at(t, "kill-leader")
	case 6:
		g.windowTo = max(g.windowTo, t+window)
		g.at(t, "registry-slow +%s for %s", g.pick([]string{"200ms", "1s", "3s", "12s"}), shortdur.Format(window))
	case 7:
		g.windowTo = max(g.windowTo, t+window)
		g.at(t, "lose-heartbeats %s %s for %s", m, g.pick([]string{"30%", "50%", "80%", "100%"}), shortdur.Format(window))
	case 8:
		g.skewed[m] = true
		g.at(t, "skew %s %s", m, g.pick([]string{"-20%", "10%", "50%", "250%"}))
	case 9:
		g.windowTo = max(g.windowTo, t+window)
		g.at(t, "commit-timeouts %s for %s", g.pick([]string{"20%", "50%", "100%"}), shortdur.Format(window))
	case 10:
		g.at(t, "lose-watch %s", m)
	case 11:
		g.windowTo = max(g.windowTo, t+window)
		g.at(t, "stall-watch %s for %s", m, shortdur.Format(window))
	default:
		g.operatorAction(t, m)
	}
}

// operatorAction adds a join, a metadata change or a state change at t.
func (g *swarmGen) operatorAction(t time.Duration, m string) {
	switch g.c.IntN(4) {
	case 0:
		id := fmt.Sprintf("m%d", len(g.machines)+1)
		g.machines = append(g.machines, id)
		g.at(t, "join %s %s", id, g.metadata())
	case 1:
		g.at(t, "metadata %s %s", m, g.metadata())
	default:
		if len(g.units) == 0 {
			g.at(t, "heal %s", m)
			return
		}
		g.at(t, "%s %s", g.pick([]string{"start", "stop", "load", "unload"}), g.pick(g.units))
	}
}

// metadata draws k=v words from the cluster's keys and values.
func (g *swarmGen) metadata() string {
	words := []string{"region=" + g.pick([]string{"eu", "us", "ap"}), "cpus=" + g.pick([]string{"2", "4", "8"})}
	if g.c.IntN(2) == 0 {
		words = append(words, "disk="+g.pick([]string{"ssd", "hdd"}))
	}
	return strings.Join(words, " ")
}

// scenario heals everything a little after the last operation and its
// windows, and returns the scenario, running until at least until.
func (g *swarmGen) scenario(name string, seed uint64, until time.Duration) *Scenario {
	end := (max(g.lastAt, g.windowTo) + 10*time.Second).Truncate(time.Second)
	healed := false
	for _, m := range g.machines {
		if g.down[m] || g.anyDown {
			g.at(end, "rejoin %s", m)
			healed = true
		}
		if g.cut[m] {
			g.at(end, "heal %s", m)
			healed = true
		}
		if g.skewed[m] {
			g.at(end, "skew %s 0%%", m)
			healed = true
		}
	}
	if !healed { // a fault that changes nothing: liveness is checked from here
		g.at(end, "heal %s", g.machines[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cluster machines=%d seed=%d metadata=%s\n", g.clusterN, seed, swarmClusterMeta)
	for _, l := range g.lines {
		b.WriteString("unit " + l + "\n")
	}
	for _, o := range g.ops {
		b.WriteString(o + "\n")
	}
	until = max(until, end+2*DefaultConfig().LivenessBound())
	fmt.Fprintf(&b, "run until %s\nassert violations == 0\nassert liveness checked\n", shortdur.Format(until))
	s, err := ParseScenario(name, strings.NewReader(b.String()))
	if err != nil {
		panic(fmt.Sprintf("sim: the swarm generator wrote a bad scenario: %v\n%s", err, b.String()))
	}
	return s
}
