package scheduler

import (
	"fmt"

	"github.com/fleetsim/fleet/unit"
)

// unitIndex is what a pass derives from the units' names and requirements
// alone, whatever their desired states and whatever the machines: each
// unit's position in name order, its Conflicts and Replaces as pattern
// ids, the patterns its name matches, its MachineOf peers as positions and
// its metadata requirement as one of the distinct ones. Building it is
// most of a pass's set-up over many units; a Scheduler keeps the last one
// and uses it again while the units' names and requirements are the same.
type unitIndex struct {
	names    []string            // in name order
	reqs     []unit.Requirements // copies, to tell when the units changed
	upos     map[string]int32
	static   []unitStatic
	pats     *patternIndex
	metaReqs []unit.MetadataRequirement // the distinct non-empty ones
}

// unitStatic is the part of unitInfo that depends on the units alone.
type unitStatic struct {
	template, global    bool
	meta                int32   // 0 for no requirement, k for metaReqs[k-1]
	conflicts, replaces []int32 // pattern ids
	matches             []int32 // pattern ids that match the unit's name
	peerPos             []int32 // MachineOf names as positions, -1 if missing
}

// buildUnitIndex indexes units, which are in name order.
func buildUnitIndex(units []*Unit) (*unitIndex, error) {
	ix := &unitIndex{
		names:  make([]string, len(units)),
		reqs:   make([]unit.Requirements, len(units)),
		upos:   make(map[string]int32, len(units)),
		static: make([]unitStatic, len(units)),
		pats:   newPatternIndex(),
	}
	metaIDs := map[string]int32{}
	for i, u := range units {
		if _, dup := ix.upos[u.Name]; dup {
			return nil, fmt.Errorf("scheduler: unit %s appears twice in the snapshot", u.Name)
		}
		ix.upos[u.Name] = int32(i)
		ix.names[i], ix.reqs[i] = u.Name, u.Req.Clone()
		st := &ix.static[i]
		st.template, st.global = isTemplate(u.Name), u.Req.Global
		st.conflicts = ix.pats.internAll(u.Req.Conflicts)
		st.replaces = ix.pats.internAll(u.Req.Replaces)
		if !u.Req.Metadata.Empty() {
			key := u.Req.Metadata.String()
			id, ok := metaIDs[key]
			if !ok {
				ix.metaReqs = append(ix.metaReqs, ix.reqs[i].Metadata)
				id = int32(len(ix.metaReqs))
				metaIDs[key] = id
			}
			st.meta = id
		}
	}
	ix.pats.finish()
	for i, u := range units {
		st := &ix.static[i]
		st.matches = ix.pats.matching(u.Name)
		if len(u.Req.MachineOf) > 0 {
			st.peerPos = make([]int32, len(u.Req.MachineOf))
			for k, n := range u.Req.MachineOf {
				st.peerPos[k] = -1
				if v, ok := ix.upos[n]; ok {
					st.peerPos[k] = v
				}
			}
		}
	}
	return ix, nil
}

// fits reports whether ix indexes exactly units, in name order: the same
// names with the same requirements.
func (ix *unitIndex) fits(units []*Unit) bool {
	if ix == nil || len(ix.names) != len(units) {
		return false
	}
	for i, u := range units {
		if ix.names[i] != u.Name || !ix.reqs[i].Equal(u.Req) {
			return false
		}
	}
	return true
}
