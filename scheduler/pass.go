package scheduler

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// unitInfo is what a pass derives once from each unit.
type unitInfo struct {
	u                *Unit
	active, global   bool
	template         bool
	metaMask         int32   // index into pass.masks
	idMachines       []int32 // machines MachineID names, when set
	peers            []int32 // MachineOf peers as unit positions, -1 if unusable
	conflicts        []int32 // pattern ids of the unit's Conflicts
	replaces         []int32 // pattern ids of the unit's Replaces
	matches          []int32 // pattern ids that match the unit's name
	rank             int32   // position in schedule order, -1 if none
	placedThisPass   int8
	prevMachine      string // the input placement considered (non-global)
	prevPort         uint16
	hasPrev          bool
	cause            Reason // why the previous placement was dropped or changed
	causeDetail      string
	globalPrev       map[string]uint16 // input placements of a global unit
	globalPrevDetail map[string]cause
}

type cause struct {
	reason Reason
	detail string
}

// pass is one scheduling pass: the sorted input, the indexes and the
// working state W.
type pass struct {
	machines []*Machine // sorted by ID
	mpos     map[string]int32
	alive    bitset
	units    []*Unit // sorted by name
	upos     map[string]int32
	info     []unitInfo
	order    []int32 // schedule order of active non-global units

	index *unitIndex // what the units alone give; shared, read-only
	masks []bitset   // alive machines meeting each metadata requirement; 0: any
	pats  *patternIndex

	// per pattern id and machine: how many units in W match the pattern
	// (hosts), list it in Conflicts (holders), list it in Replaces
	// (replacers). Checks are a few look-ups instead of glob matches.
	hosts, holders, replacers []map[int32]int32

	// working state W
	at    []int32  // machine of each non-global unit, -1 if none
	port  []uint16 // its port
	gAt   [][]globalPlacement
	onM   [][]int32 // units placed on each machine
	loads *loadIndex
	ports *portTable
	queue *rankQueue // step 4's queue, nil outside step 4

	displaced bool // a step 4 round displaced a unit
	actions   []Action
	unsched   []Unscheduled
}

type globalPlacement struct {
	m    int32
	port uint16
}

// newPass indexes snap for one pass, using index if it fits the units
// and spare's array for the units' working state if it is large enough.
func newPass(snap *Snapshot, index *unitIndex, spare []unitInfo) (*pass, error) {
	p := &pass{mpos: make(map[string]int32, len(snap.Machines))}
	if err := p.indexMachines(snap.Machines); err != nil {
		return nil, err
	}
	if err := p.indexUnits(snap.Units, index, spare); err != nil {
		return nil, err
	}
	n := len(p.machines)
	p.loads, p.ports = newLoadIndex(n), newPortTable(n)
	p.onM = make([][]int32, n)
	p.at = make([]int32, len(p.units))
	for i := range p.at {
		p.at[i] = -1
	}
	p.port = make([]uint16, len(p.units))
	p.gAt = make([][]globalPlacement, len(p.units))
	for m := int32(0); int(m) < n; m++ {
		if p.alive.has(m) {
			p.loads.add(m)
		}
	}
	return p, nil
}

// indexMachines puts the machines in ID order, with their positions and
// the set of alive ones.
func (p *pass) indexMachines(ms []Machine) error {
	p.machines = make([]*Machine, len(ms))
	for i := range ms {
		p.machines[i] = &ms[i]
	}
	byID := func(a, b *Machine) int { return strings.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(p.machines, byID) { // callers often keep them sorted
		slices.SortFunc(p.machines, byID)
	}
	p.alive = newBitset(len(ms))
	for i, m := range p.machines {
		if _, dup := p.mpos[m.ID]; dup {
			return fmt.Errorf("scheduler: machine %s appears twice in the snapshot", m.ID)
		}
		p.mpos[m.ID] = int32(i)
		if m.Alive {
			p.alive.set(int32(i))
		}
	}
	return nil
}

// indexUnits puts the units in name order and derives what the pass
// needs of each: from index when it fits them (same names, equal
// requirements), else from a new index, which p.index then holds; the
// desired states, metadata masks and MachineID targets come from this
// snapshot every time.
func (p *pass) indexUnits(us []Unit, index *unitIndex, spare []unitInfo) error {
	p.units = make([]*Unit, len(us))
	for i := range us {
		p.units[i] = &us[i]
	}
	byName := func(a, b *Unit) int { return strings.Compare(a.Name, b.Name) }
	if !slices.IsSortedFunc(p.units, byName) { // callers often keep them sorted
		slices.SortFunc(p.units, byName)
	}
	if !index.fits(p.units) {
		var err error
		if index, err = buildUnitIndex(p.units); err != nil {
			return err
		}
	}
	p.index, p.upos, p.pats = index, index.upos, index.pats
	n := len(index.pats.globs)
	p.hosts, p.holders, p.replacers = make([]map[int32]int32, n), make([]map[int32]int32, n), make([]map[int32]int32, n)
	p.metadataMasks()
	if cap(spare) >= len(p.units) {
		p.info = spare[:len(p.units)]
		clear(p.info)
	} else {
		p.info = make([]unitInfo, len(p.units))
	}
	for i, u := range p.units {
		st, in := &index.static[i], &p.info[i]
		in.u, in.rank = u, -1
		in.template, in.global = st.template, st.global
		in.active = u.Desired.Active() && !in.template
		in.conflicts, in.replaces, in.matches = st.conflicts, st.replaces, st.matches
		in.metaMask = st.meta
		in.idMachines = p.machineIDMatches(u.Req.MachineID)
	}
	for i := range p.units {
		p.info[i].peers = p.resolvePeers(int32(i))
	}
	return nil
}

// isTemplate reports whether name is a template such as "foo@.service".
func isTemplate(name string) bool {
	at := strings.LastIndexByte(name, '@')
	return at >= 0 && at+1 < len(name) && name[at+1] == '.'
}

// metadataMasks makes, for each distinct metadata requirement of the
// units, the set of alive machines meeting it; masks[0] is every alive
// machine, for units that ask nothing.
func (p *pass) metadataMasks() {
	p.masks = make([]bitset, 1+len(p.index.metaReqs))
	p.masks[0] = p.alive
	for k, req := range p.index.metaReqs {
		mask := newBitset(len(p.machines))
		for m, mc := range p.machines {
			if mc.Alive && req.Matches(mc.Metadata) {
				mask.set(int32(m))
			}
		}
		p.masks[k+1] = mask
	}
}

// machineIDMatches returns the machines a MachineID names: the full ID,
// or every machine whose ID starts with an 8-character short form.
func (p *pass) machineIDMatches(id string) []int32 {
	if id == "" {
		return nil
	}
	if m, ok := p.mpos[id]; ok {
		return []int32{m}
	}
	out := []int32{}
	if len(id) == 8 {
		i := sort.Search(len(p.machines), func(i int) bool { return p.machines[i].ID >= id })
		for ; i < len(p.machines) && strings.HasPrefix(p.machines[i].ID, id); i++ {
			out = append(out, int32(i))
		}
	}
	return out
}

// resolvePeers maps MachineOf names to unit positions; a peer that is
// missing, inactive or global cannot be followed and maps to -1.
func (p *pass) resolvePeers(u int32) []int32 {
	pos := p.index.static[u].peerPos
	if len(pos) == 0 {
		return nil
	}
	out := make([]int32, len(pos))
	for i, v := range pos {
		out[i] = -1
		if v >= 0 && p.info[v].active && !p.info[v].global {
			out[i] = v
		}
	}
	return out
}
