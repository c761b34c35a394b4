package unit

import "slices"

// Equal reports whether r and o ask the same of a machine, term for term
// and in the same order.
func (r Requirements) Equal(o Requirements) bool {
	return r.MachineID == o.MachineID &&
		r.Global == o.Global &&
		slices.Equal(r.MachineOf, o.MachineOf) &&
		slices.Equal(r.Conflicts, o.Conflicts) &&
		slices.Equal(r.Replaces, o.Replaces) &&
		slices.Equal(r.Ports, o.Ports) &&
		r.Metadata.Equal(o.Metadata)
}

// Clone returns a copy of r that shares no slice with it.
func (r Requirements) Clone() Requirements {
	r.MachineOf = slices.Clone(r.MachineOf)
	r.Conflicts = slices.Clone(r.Conflicts)
	r.Replaces = slices.Clone(r.Replaces)
	r.Ports = slices.Clone(r.Ports)
	r.Metadata = r.Metadata.Clone()
	return r
}

// Equal reports whether m and o hold the same terms in the same order.
func (m MetadataRequirement) Equal(o MetadataRequirement) bool {
	return slices.Equal(m.Others, o.Others) &&
		slices.EqualFunc(m.AnyOf, o.AnyOf, func(a, b MetadataAnyOf) bool {
			return a.Key == b.Key && slices.Equal(a.Values, b.Values)
		})
}

// Clone returns a copy of m that shares no slice with it.
func (m MetadataRequirement) Clone() MetadataRequirement {
	m.Others = slices.Clone(m.Others)
	if m.AnyOf != nil {
		anyOf := make([]MetadataAnyOf, len(m.AnyOf))
		for i, g := range m.AnyOf {
			anyOf[i] = MetadataAnyOf{Key: g.Key, Values: slices.Clone(g.Values)}
		}
		m.AnyOf = anyOf
	}
	return m
}
