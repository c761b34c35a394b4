package scheduler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fleetsim/fleet/unit"
	"pgregory.net/rapid"
)

// Generators of scheduler snapshots for the property tests. Units are built
// the way fleet builds them: real [X-Fleet] options parsed by
// unit.ParseRequirements, so requirements are always valid. A drawn case
// prints as a readable listing (machines, unit options, placements) so a
// failing property can be replayed by hand.

// genCase is one generated snapshot together with the options each unit
// was parsed from.
type genCase struct {
	Snap    *Snapshot
	Options map[string][]unit.Option // unit name -> its [X-Fleet] options
}

// GoString renders the case for rapid's failure output.
func (c *genCase) GoString() string {
	var b strings.Builder
	b.WriteString("\n")
	for _, m := range c.Snap.Machines {
		state := "alive"
		if !m.Alive {
			state = "dead"
		}
		fmt.Fprintf(&b, "  machine %s %s%s\n", m.ID, state, genMetadataText(m.Metadata))
	}
	for _, u := range c.Snap.Units {
		fmt.Fprintf(&b, "  unit %s %s", u.Name, u.Desired)
		for _, o := range c.Options[u.Name] {
			fmt.Fprintf(&b, " %s=%s", o.Name, o.Value)
		}
		b.WriteString("\n")
	}
	for _, p := range c.Snap.Placements {
		fmt.Fprintf(&b, "  placement %s %s %d\n", p.Unit, p.Machine, p.Port)
	}
	return b.String()
}

func genMetadataText(md map[string]string) string {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, md[k])
	}
	return b.String()
}

// The vocabulary the generators draw from.
var (
	genPlainNames  = []string{"api.service", "auth.service", "cache.service", "db.service", "log.service", "mail.service", "proxy.service", "queue.service"}
	genGlobalNames = []string{"agent.service", "monitor.service", "sidekick.service"}
	genGoneUnits   = []string{"old.service", "web@9.service"}
	genMetaTerms   = []string{"region=eu", "region=us", "disk=ssd", "disk=hdd", "ram>=2048", "ram<4096", "ram>1024", "ram<=1024", "region!=us", "disk!=ssd", "ram=8192"}
	genGlobs       = []string{"web@*", "db.service", "*cache*", "a*", "q*.service", "agent.service", "monitor.service", "log.service", "api.service", "*"}
	genPortSpecs   = []string{"20001-20003", "20001", "20001-20002", "20002-20003 20005", "8080", "20001-20002 20003"}
	genPorts       = []uint16{0, 0, 20001, 20002, 20003, 20005, 8080, 9999}
	genHexPrefixes = []string{"3f2a9c01", "3f2a9c01", "a1b2c3d4", "77e0d1f5"}
)

// genMachines draws 1-12 machines with IDs "m01".."m12" or, sometimes, 32-hex
// IDs whose 8-character prefixes may collide.
func genMachines(t *rapid.T) []Machine {
	n := rapid.IntRange(1, 12).Draw(t, "machines")
	hexIDs := rapid.IntRange(0, 3).Draw(t, "hexIDs") == 3
	ms := make([]Machine, n)
	for i := range ms {
		id := fmt.Sprintf("m%02d", i+1)
		if hexIDs {
			id = rapid.SampledFrom(genHexPrefixes).Draw(t, "idPrefix") + fmt.Sprintf("%024x", i+1)
		}
		md := map[string]string{}
		for _, kv := range [][]string{{"region", "", "eu", "us"}, {"disk", "", "ssd", "hdd"}, {"ram", "", "512", "1024", "2048", "4096", "8192"}} {
			if v := rapid.SampledFrom(kv[1:]).Draw(t, kv[0]); v != "" {
				md[kv[0]] = v
			}
		}
		ms[i] = Machine{ID: id, IP: fmt.Sprintf("10.0.0.%d", i+1), Metadata: md, Alive: rapid.IntRange(0, 4).Draw(t, "dead") < 4}
	}
	return ms
}

func genOpt(name, value string) unit.Option {
	return unit.Option{Section: unit.FleetSection, Name: name, Value: value}
}

// genCommonOptions draws MachineMetadata and Ports options.
func genCommonOptions(t *rapid.T, portOdds int) []unit.Option {
	var opts []unit.Option
	for i := rapid.IntRange(0, 6).Draw(t, "metaTerms") - 4; i > 0; i-- {
		opts = append(opts, genOpt("MachineMetadata", rapid.SampledFrom(genMetaTerms).Draw(t, "meta")))
	}
	if rapid.IntRange(0, portOdds).Draw(t, "hasPorts") == portOdds {
		opts = append(opts, genOpt("Ports", rapid.SampledFrom(genPortSpecs).Draw(t, "ports")))
	}
	return opts
}

// genPlainOptions draws the options of a plain unit: MachineID (of a live,
// dead or missing machine, full or short) or else MachineOf peers and
// Conflicts or Replaces globs.
func genPlainOptions(t *rapid.T, machineIDs, peers []string) []unit.Option {
	opts := genCommonOptions(t, 3)
	if rapid.IntRange(0, 7).Draw(t, "hasMachineID") == 7 {
		id := rapid.SampledFrom(append(machineIDs[:len(machineIDs):len(machineIDs)], "m99")).Draw(t, "machineID")
		if len(id) == 32 && rapid.Bool().Draw(t, "shortID") {
			id = id[:8]
		}
		return append(opts, genOpt("MachineID", id))
	}
	for i := rapid.IntRange(0, 4).Draw(t, "peers") - 2; i > 0; i-- {
		opts = append(opts, genOpt("MachineOf", rapid.SampledFrom(peers).Draw(t, "machineOf")))
	}
	switch rapid.IntRange(0, 3).Draw(t, "relation") {
	case 2:
		opts = append(opts, genOpt("Conflicts", rapid.SampledFrom(genGlobs).Draw(t, "conflicts")))
	case 3:
		opts = append(opts, genOpt("Replaces", rapid.SampledFrom(genGlobs).Draw(t, "replaces")))
	}
	return opts
}

// genWebOptions draws the options of a web@ instance or template: mostly
// Conflicts=%p@* (web@*), sometimes a MachineOf peer.
func genWebOptions(t *rapid.T, peers []string) []unit.Option {
	opts := genCommonOptions(t, 3)
	if rapid.IntRange(0, 3).Draw(t, "webConflicts") > 0 {
		opts = append(opts, genOpt("Conflicts", "%p@*"))
	}
	if rapid.IntRange(0, 5).Draw(t, "webPeer") == 5 {
		opts = append(opts, genOpt("MachineOf", rapid.SampledFrom(peers).Draw(t, "machineOf")))
	}
	return opts
}

// genGlobalOptions draws the options of a global unit.
func genGlobalOptions(t *rapid.T) []unit.Option {
	opts := append([]unit.Option{genOpt("Global", "true")}, genCommonOptions(t, 2)...)
	if rapid.IntRange(0, 2).Draw(t, "globalConflicts") == 2 {
		opts = append(opts, genOpt("Conflicts", rapid.SampledFrom(genGlobs).Draw(t, "conflicts")))
	}
	return opts
}

// genCycle sometimes picks two or three consecutive plain names to name
// each other in a MachineOf cycle (broken when one of them is not drawn);
// it maps each member to its peer.
func genCycle(t *rapid.T) map[string]string {
	cycle := map[string]string{}
	if rapid.IntRange(0, 4).Draw(t, "cycle") < 4 {
		return cycle
	}
	k := rapid.IntRange(2, 3).Draw(t, "cycleLength")
	first := rapid.IntRange(0, len(genPlainNames)-k).Draw(t, "cycleStart")
	for i := 0; i < k; i++ {
		cycle[genPlainNames[first+i]] = genPlainNames[first+(i+1)%k]
	}
	return cycle
}

func genHasMachineID(opts []unit.Option) bool {
	for _, o := range opts {
		if o.Name == "MachineID" {
			return true
		}
	}
	return false
}

// genParse parses the options of name, dropping MachineOf options (which
// may name the unit itself or match its own globs) when they are rejected.
func genParse(t *rapid.T, name string, opts []unit.Option) ([]unit.Option, unit.Requirements) {
	req, _, err := unit.ParseRequirements(name, opts)
	if err == nil {
		return opts, req
	}
	var kept []unit.Option
	for _, o := range opts {
		if o.Name != "MachineOf" {
			kept = append(kept, o)
		}
	}
	req, _, err = unit.ParseRequirements(name, kept)
	if err != nil {
		t.Fatalf("generator drew invalid options for %s: %v", name, err)
	}
	return kept, req
}

// genSnapshot draws a whole case: machines, then unit after unit (each
// with its options, desired state and existing placements, so that a unit
// shrinks away as one block), some placements healthy and some stale (dead
// or missing machines, gone or inactive units, duplicates, ports out of
// range).
func genSnapshot() *rapid.Generator[*genCase] {
	return rapid.Custom(func(t *rapid.T) *genCase {
		machines := genMachines(t)
		var machineIDs []string
		for _, m := range machines {
			machineIDs = append(machineIDs, m.ID)
		}
		targets := append(machineIDs[:len(machineIDs):len(machineIDs)], "gone01")
		// A MachineOf peer is any name of the vocabulary, drawn or not (one
		// not drawn is a missing unit), and now and then a global one.
		peers := append(append([]string(nil), genPlainNames...), "web@1.service", "web@2.service", "missing.service")
		if rapid.IntRange(0, 9).Draw(t, "globalPeers") == 9 {
			peers = append(peers, genGlobalNames...)
		}
		cycle := genCycle(t)
		c := &genCase{Snap: &Snapshot{Machines: machines}, Options: map[string][]unit.Option{}}
		add := func(name string, opts []unit.Option) {
			opts, req := genParse(t, name, opts)
			desired := rapid.SampledFrom([]unit.State{unit.StateLaunched, unit.StateLaunched, unit.StateLoaded, unit.StateInactive}).Draw(t, "desired")
			u := Unit{Name: name, Desired: desired, Req: req}
			c.Options[name] = opts
			c.Snap.Units = append(c.Snap.Units, u)
			c.Snap.Placements = append(c.Snap.Placements, genPlacementsOf(t, u, targets)...)
		}
		for _, name := range genPlainNames {
			if !rapid.Bool().Draw(t, name) {
				continue
			}
			opts := genPlainOptions(t, machineIDs, peers)
			if peer, ok := cycle[name]; ok && !genHasMachineID(opts) {
				opts = append(opts, genOpt("MachineOf", peer))
			}
			add(name, opts)
		}
		instances := rapid.IntRange(0, 5).Draw(t, "webInstances")
		for i := 1; i <= instances; i++ {
			add(fmt.Sprintf("web@%d.service", i), genWebOptions(t, peers))
		}
		if rapid.IntRange(0, 4).Draw(t, "webTemplate") == 4 {
			add("web@.service", genWebOptions(t, peers))
		}
		for _, name := range genGlobalNames {
			if rapid.IntRange(0, 2).Draw(t, name) == 2 {
				add(name, genGlobalOptions(t))
			}
		}
		c.Snap.Placements = append(c.Snap.Placements, genStalePlacements(t, c.Snap.Placements, targets)...)
		return c
	})
}

// genPlacementsOf draws the existing placements of u: mostly none or one,
// sometimes a duplicate; for a global unit any number. Machines may be
// alive, dead or missing, ports in or out of u's ranges.
func genPlacementsOf(t *rapid.T, u Unit, targets []string) []Placement {
	n := rapid.IntRange(0, 5).Draw(t, "placements") - 2
	if u.Req.Global {
		n = rapid.IntRange(0, len(targets)).Draw(t, "placements")
	}
	var ps []Placement
	for ; n > 0; n-- {
		ps = append(ps, genPlacement(t, u.Name, targets))
	}
	return ps
}

func genPlacement(t *rapid.T, name string, targets []string) Placement {
	return Placement{
		Unit:    name,
		Machine: rapid.SampledFrom(targets).Draw(t, "on"),
		Port:    rapid.SampledFrom(genPorts).Draw(t, "port"),
	}
}

// genStalePlacements draws placements of units that are gone and, now and
// then, an exact duplicate of one in ps.
func genStalePlacements(t *rapid.T, ps []Placement, targets []string) []Placement {
	var out []Placement
	for _, name := range genGoneUnits {
		if rapid.IntRange(0, 4).Draw(t, "gonePlacement") == 4 {
			out = append(out, genPlacement(t, name, targets))
		}
	}
	if len(ps) > 0 && rapid.IntRange(0, 4).Draw(t, "exactDuplicate") == 4 {
		out = append(out, ps[rapid.IntRange(0, len(ps)-1).Draw(t, "duplicateOf")])
	}
	return out
}

// genClone deep-copies a snapshot so a pass cannot change the caller's.
func genClone(s *Snapshot) *Snapshot {
	out := &Snapshot{
		Machines:   append([]Machine(nil), s.Machines...),
		Units:      append([]Unit(nil), s.Units...),
		Placements: append([]Placement(nil), s.Placements...),
	}
	for i, m := range out.Machines {
		md := make(map[string]string, len(m.Metadata))
		for k, v := range m.Metadata {
			md[k] = v
		}
		out.Machines[i].Metadata = md
	}
	return out
}
