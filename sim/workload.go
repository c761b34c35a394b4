package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/fleetsim/fleet/unit"
)

// Workload generates a cluster that looks like a real one: machines with
// 32-hex-digit IDs and region, disk and ram metadata, and a mix of units
// using every [X-Fleet] option. Everything is derived from Seed, so the
// same Workload always populates the same world.
//
// The unit mix, by share of Units after the global and Replaces units:
//
//	35% plain units
//	20% MachineMetadata: plain k=v (one key or OR'ed values) and operators
//	    (ram>=4096, region!=ap, disk!=hdd)
//	20% template instances, Conflicts=%p@* in groups of TemplateGroup
//	15% MachineOf pairs: a main unit and a sidekick that follows it
//	10% Ports=20000-20099
//
// plus Global units (one per 25,000 units, at least one when there are 10
// units or more, at most four) and Replaces pairs (one in 200 units: an
// upgrade unit that Replaces its legacy unit).
type Workload struct {
	Seed     uint64
	Machines int
	Units    int

	// TemplateGroup is how many instances share one template; 0 picks
	// min(50, Machines/4), so every group fits even after a kill wave.
	TemplateGroup int
	// Desired is the units' desired state; 0 means launched.
	Desired unit.State

	// KillFraction of the machines crash at KillAt (see KillWave).
	KillFraction float64
	KillAt       time.Duration
}

// DefaultWorkload is the scale fleet was never built for: 10,000
// machines, 100,000 units, 10% of the machines killed at 20 minutes.
func DefaultWorkload() Workload {
	return Workload{Seed: 7, Machines: 10000, Units: 100000, KillFraction: 0.1, KillAt: 20 * time.Minute}
}

// Populate adds the workload's machines and units to w and schedules its
// kill wave, if any. It fails on a workload that cannot be built.
func (wl Workload) Populate(w *World) error {
	if wl.Machines < 0 || wl.Units < 0 {
		return fmt.Errorf("sim: workload: negative size (%d machines, %d units)", wl.Machines, wl.Units)
	}
	rng := rand.New(rand.NewPCG(wl.Seed, 0x6d616368696e6573)) // "machines"
	for _, m := range generateMachines(rng, wl.Machines) {
		if err := w.AddMachine(m.id, m.meta); err != nil {
			return fmt.Errorf("sim: workload: %w", err)
		}
	}
	desired := wl.Desired
	if desired == 0 {
		desired = unit.StateLaunched
	}
	g := unitGen{rng: rand.New(rand.NewPCG(wl.Seed, 0x756e697473)), group: wl.templateGroup()} // "units"
	for _, u := range g.units(wl.Units) {
		if err := w.AddUnit(u.name, u.opts, desired); err != nil {
			return fmt.Errorf("sim: workload: %w", err)
		}
	}
	if wl.KillFraction > 0 {
		return KillWave(w, wl.KillAt, wl.KillFraction, wl.Seed)
	}
	return nil
}

func (wl Workload) templateGroup() int {
	if wl.TemplateGroup > 0 {
		return wl.TemplateGroup
	}
	return max(1, min(50, wl.Machines/4))
}

// generatedMachine is one machine of a generated cluster.
type generatedMachine struct {
	id   string
	meta map[string]string
}

var (
	regions = [...]string{"eu", "us", "ap"}
	disks   = [...]string{"ssd", "hdd"}
)

// generateMachines draws n machines with distinct 32-hex-digit IDs and
// region (eu, us, ap), disk (ssd, hdd) and ram (1024 to 8192) metadata.
func generateMachines(rng *rand.Rand, n int) []generatedMachine {
	out := make([]generatedMachine, 0, n)
	seen := make(map[string]bool, n)
	for len(out) < n {
		id := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, generatedMachine{id: id, meta: map[string]string{
			"region": regions[rng.IntN(len(regions))],
			"disk":   disks[rng.IntN(len(disks))],
			"ram":    fmt.Sprint(1024 << rng.IntN(4)),
		}})
	}
	return out
}

// genUnit is one generated unit.
type genUnit struct {
	name string
	opts []unit.Option
}

func fleetOption(name, value string) []unit.Option {
	return []unit.Option{{Section: unit.FleetSection, Name: name, Value: value}}
}

// metadataValues are the MachineMetadata requirements units draw from.
var metadataValues = [...]string{
	"region=eu", "region=us", `"region=eu" "region=ap"`, "disk=ssd",
	"ram>=4096", "region!=ap", "disk!=hdd", "ram>=2048 region=us",
}

// serviceNames give generated units realistic stems.
var serviceNames = [...]string{"web", "api", "cache", "worker", "queue", "search", "auth", "billing", "media", "feed"}

var globalUnits = [...]struct{ name, meta string }{
	{"node-exporter.service", ""},
	{"log-shipper.service", ""},
	{"ssd-trim.service", "disk=ssd"},
	{"metrics-relay.service", "region!=ap"},
}

// unitGen draws the unit mix.
type unitGen struct {
	rng   *rand.Rand
	group int // instances per template
	tmpl  int // current template number
	inst  int // instances in the current template
	out   []genUnit
}

func (g *unitGen) add(name string, opts []unit.Option) {
	g.out = append(g.out, genUnit{name: name, opts: opts})
}

// units returns n units: globals first, then Replaces pairs, then the mix.
func (g *unitGen) units(n int) []genUnit {
	g.out = make([]genUnit, 0, n)
	globals := 0
	if n >= 10 {
		globals = min(len(globalUnits), max(1, n/25000))
	}
	for _, gu := range globalUnits[:globals] {
		opts := fleetOption("Global", "true")
		if gu.meta != "" {
			opts = append(opts, fleetOption("MachineMetadata", gu.meta)...)
		}
		g.add(gu.name, opts)
	}
	for k := 0; k < n/200; k++ {
		legacy := fmt.Sprintf("legacy-%s-%d.service", g.stem(), k)
		g.add(legacy, nil)
		g.add(fmt.Sprintf("upgrade-%d.service", k), fleetOption("Replaces", legacy))
	}
	for len(g.out) < n {
		g.mixed(n - len(g.out))
	}
	return g.out
}

func (g *unitGen) stem() string { return serviceNames[g.rng.IntN(len(serviceNames))] }

// mixed draws one entry of the mix: one unit, or a MachineOf pair when at
// least two are left.
func (g *unitGen) mixed(left int) {
	i := len(g.out)
	// Weights out of 185 are the shares doubled, a pair's halved: it
	// brings two units.
	switch r := g.rng.IntN(185); {
	case r < 70:
		g.add(fmt.Sprintf("%s-%d.service", g.stem(), i), nil)
	case r < 110:
		v := metadataValues[g.rng.IntN(len(metadataValues))]
		g.add(fmt.Sprintf("%s-%d.service", g.stem(), i), fleetOption("MachineMetadata", v))
	case r < 150:
		if g.inst == 0 || g.inst >= g.group {
			g.tmpl, g.inst = g.tmpl+1, 0
		}
		g.inst++
		g.add(fmt.Sprintf("%s-%d@%d.service", serviceNames[g.tmpl%len(serviceNames)], g.tmpl, g.inst), fleetOption("Conflicts", "%p@*"))
	case r < 165 && left >= 2:
		stem := g.stem()
		lead := fmt.Sprintf("%s-%d.service", stem, i)
		g.add(lead, nil)
		g.add(fmt.Sprintf("%s-%d-sidekick.service", stem, i), fleetOption("MachineOf", lead))
	case r < 165:
		g.add(fmt.Sprintf("%s-%d.service", g.stem(), i), nil)
	default:
		g.add(fmt.Sprintf("%s-%d.service", g.stem(), i), fleetOption("Ports", "20000-20099"))
	}
}

// KillWave schedules, at virtual time at, a crash (an OpKill fault) of
// round(fraction × machines) machines of w chosen by seed. The machines
// crash in the order they were added, all at the same instant.
func KillWave(w *World, at time.Duration, fraction float64, seed uint64) error {
	if fraction < 0 || fraction > 1 || math.IsNaN(fraction) {
		return fmt.Errorf("sim: kill wave: fraction %v is not in [0, 1]", fraction)
	}
	ids := w.MachineIDs()
	n := int(math.Round(fraction * float64(len(ids))))
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c)) // "kill"
	chosen := rng.Perm(len(ids))[:n]
	sort.Ints(chosen)
	for _, i := range chosen {
		if err := w.At(at, Op{Kind: OpKill, Machine: ids[i], IsFault: true}); err != nil {
			return fmt.Errorf("sim: kill wave: %w", err)
		}
	}
	return nil
}
