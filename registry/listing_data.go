package registry

import (
	"sort"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/fleetsim/fleet/unit"
)

// ListedUnit is one unit as a listing shows it: its job and body, where
// it is scheduled and what the machines report of it, all read at one
// revision.
type ListedUnit struct {
	Name string
	// Job is the unit's job; the zero Job when Err is the job's own.
	Job Job
	// File is the unit's body; nil when Err is set.
	File *unit.File
	// Err says why the unit cannot be shown whole: its job or its body
	// does not decode (ErrCorrupt), or its body is missing (ErrNotFound).
	Err error
	// Placements are the machines it is scheduled on, by machine ID.
	Placements []Placement
	// States are what machines report of it, by machine ID.
	States []UnitState
}

// ListedState is one machine's report of one unit, with the port the
// unit was given there (0 if none or not scheduled there).
type ListedState struct {
	State UnitState
	Port  uint16
}

// listingData is the copy itself: every map and order at revision rev.
// It is only touched with the Listing's lock held.
type listingData struct {
	rev       int64
	jobs      map[string]listedJob // by unit name, those that do not decode too
	names     *sortedSet           // the keys of jobs
	bodies    map[unit.Hash]listedBody
	sched     map[string]Placement   // by schedule key
	placed    map[string][]Placement // by unit, by machine
	states    map[string]UnitState   // by stateKey
	stateKeys *sortedSet             // the keys of states
}

type listedJob struct {
	job Job
	err error
}

type listedBody struct {
	file *unit.File
	err  error
}

func newListingData() *listingData {
	return &listingData{jobs: map[string]listedJob{}, names: newSortedSet(), bodies: map[unit.Hash]listedBody{},
		sched: map[string]Placement{}, placed: map[string][]Placement{},
		states: map[string]UnitState{}, stateKeys: newSortedSet()}
}

// stateKey orders states by unit, then machine: no name holds a NUL.
func stateKey(name, machine string) string { return name + "\x00" + machine }

// put applies one record of the listing's range.
func (r *Etcd) listingPut(d *listingData, kv *mvccpb.KeyValue) {
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, r.k.jobs()):
		name := strings.TrimPrefix(key, r.k.jobs())
		j, err := decodeJob(name, kv.Value)
		if err != nil {
			r.skip(kv, err)
		}
		if _, ok := d.jobs[name]; !ok {
			d.names.add(name)
		}
		d.jobs[name] = listedJob{job: j, err: err}
	case strings.HasPrefix(key, r.k.bodies()):
		h, err := unit.ParseHash(strings.TrimPrefix(key, r.k.bodies()))
		if err != nil {
			r.skip(kv, err)
			return
		}
		f, err := decodeBody(h, kv.Value)
		if err != nil {
			r.skip(kv, err)
		}
		d.bodies[h] = listedBody{file: f, err: err}
	case strings.HasPrefix(key, r.k.scheduleAll()):
		r.listingDelete(d, key)
		p, err := r.decodePlacement(key, kv.Value)
		if err != nil {
			r.skip(kv, err)
			return
		}
		d.sched[key] = p
		d.placed[p.Unit] = insertPlacement(d.placed[p.Unit], p)
	case strings.HasPrefix(key, r.k.states()):
		r.listingDelete(d, key)
		s, err := decodeState(strings.TrimPrefix(key, r.k.states()), kv.Value)
		if err != nil {
			r.skip(kv, err)
			return
		}
		k := stateKey(s.Unit, s.Machine)
		d.states[k] = s
		d.stateKeys.add(k)
	}
}

// listingDelete applies the deletion of one record.
func (r *Etcd) listingDelete(d *listingData, key string) {
	switch {
	case strings.HasPrefix(key, r.k.jobs()):
		name := strings.TrimPrefix(key, r.k.jobs())
		if _, ok := d.jobs[name]; ok {
			delete(d.jobs, name)
			d.names.remove(name)
		}
	case strings.HasPrefix(key, r.k.bodies()):
		if h, err := unit.ParseHash(strings.TrimPrefix(key, r.k.bodies())); err == nil {
			delete(d.bodies, h)
		}
	case strings.HasPrefix(key, r.k.scheduleAll()):
		p, ok := d.sched[key]
		if !ok {
			return
		}
		delete(d.sched, key)
		ps := removePlacement(d.placed[p.Unit], p.Machine)
		if len(ps) == 0 {
			delete(d.placed, p.Unit)
		} else {
			d.placed[p.Unit] = ps
		}
	case strings.HasPrefix(key, r.k.states()):
		name, machine, ok := strings.Cut(strings.TrimPrefix(key, r.k.states()), "/")
		k := stateKey(name, machine)
		if _, there := d.states[k]; ok && there {
			delete(d.states, k)
			d.stateKeys.remove(k)
		}
	}
}

func insertPlacement(ps []Placement, p Placement) []Placement {
	i := sort.Search(len(ps), func(i int) bool { return ps[i].Machine >= p.Machine })
	if i < len(ps) && ps[i].Machine == p.Machine {
		ps[i] = p
		return ps
	}
	ps = append(ps, Placement{})
	copy(ps[i+1:], ps[i:])
	ps[i] = p
	return ps
}

func removePlacement(ps []Placement, machine string) []Placement {
	for i, p := range ps {
		if p.Machine == machine {
			return append(ps[:i:i], ps[i+1:]...)
		}
	}
	return ps
}

// unit returns what the copy holds of the unit name, whose job exists.
func (d *listingData) unit(name string) ListedUnit {
	lj := d.jobs[name]
	u := ListedUnit{Name: name, Job: lj.job, Err: lj.err}
	if u.Err != nil {
		return u
	}
	if b, ok := d.bodies[lj.job.Hash]; !ok {
		u.Err = &missingBody{hash: lj.job.Hash}
	} else if u.File, u.Err = b.file, b.err; u.Err != nil {
		u.File = nil
	}
	u.Placements = append([]Placement(nil), d.placed[name]...)
	keys := d.stateKeys.sorted()
	for i := after(keys, name); i < len(keys) && strings.HasPrefix(keys[i], name+"\x00"); i++ {
		u.States = append(u.States, d.states[keys[i]])
	}
	return u
}

// missingBody is the error of a job whose body is not in the registry.
type missingBody struct{ hash unit.Hash }

func (e *missingBody) Error() string { return ErrNotFound.Error() + ": unit body " + e.hash.Short() }
func (e *missingBody) Unwrap() error { return ErrNotFound }

// unitsAfter returns up to n units whose names sort after the name
// after ("" for the first page), and whether more follow.
func (d *listingData) unitsAfter(after_ string, n int) ([]ListedUnit, bool) {
	names := d.names.sorted()
	i := 0
	if after_ != "" {
		i = after(names, after_)
	}
	end := min(i+n, len(names))
	out := make([]ListedUnit, 0, end-i)
	for _, name := range names[i:end] {
		out = append(out, d.unit(name))
	}
	return out, end < len(names)
}

// statesAfter returns up to n states whose stateKey sorts after the key
// after, of unit name and of machine when they are not "", and whether
// more follow. With a unit name the page costs its length; with only a
// machine, the states of other machines are passed over.
func (d *listingData) statesAfter(after_ string, n int, name, machine string) ([]ListedState, bool) {
	keys := d.stateKeys.sorted()
	i := 0
	if name != "" && after_ < name+"\x00" {
		after_ = name
	}
	if after_ != "" {
		i = after(keys, after_)
	}
	var out []ListedState
	for ; i < len(keys); i++ {
		st := d.states[keys[i]]
		if name != "" && st.Unit != name {
			break
		}
		if machine != "" && st.Machine != machine {
			continue
		}
		if len(out) == n {
			return out, true
		}
		ls := ListedState{State: st}
		ps := d.placed[st.Unit]
		if j := sort.Search(len(ps), func(j int) bool { return ps[j].Machine >= st.Machine }); j < len(ps) && ps[j].Machine == st.Machine {
			ls.Port = ps[j].Port
		}
		out = append(out, ls)
	}
	return out, false
}
