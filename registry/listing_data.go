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

// listingData is the copy itself, at revision rev. It holds the records
// as etcd gave them and decodes only those a page shows, so that loading
// it costs no more than reading them, and a page costs its length. It is
// only touched with the Listing's lock held.
type listingData struct {
	r         *Etcd
	rev       int64
	jobs      map[string]*record // by unit name
	names     *sortedSet         // the keys of jobs
	bodies    map[string]*record // by hash, as written in the key
	placed    map[string][]placed
	states    map[string]*record // by stateKey
	stateKeys *sortedSet         // the keys of states
}

// record is a record as etcd gave it, and once a page has shown it, what
// it decodes to (or why it does not).
type record struct {
	kv      *mvccpb.KeyValue
	decoded bool
	value   any
	err     error
}

// decode returns what rec decodes to with f, decoding it once; a record
// that does not decode is logged once, as the registry's listings do.
func (r *Etcd) decode(rec *record, f func(kv *mvccpb.KeyValue) (any, error)) (any, error) {
	if !rec.decoded {
		rec.value, rec.err = f(rec.kv)
		rec.decoded = true
		if rec.err != nil {
			r.skip(rec.kv, rec.err)
		}
	}
	return rec.value, rec.err
}

// placed is a schedule record of a unit, by the machine in its key.
type placed struct {
	machine string
	rec     *record
}

func (r *Etcd) newListingData() *listingData {
	return &listingData{r: r, jobs: map[string]*record{}, names: newSortedSet(),
		bodies: map[string]*record{}, placed: map[string][]placed{},
		states: map[string]*record{}, stateKeys: newSortedSet()}
}

// stateKey orders states by unit, then machine: no name holds a NUL.
func stateKey(name, machine string) string { return name + "\x00" + machine }

// put applies one record of the listing's range; records of other kinds
// (machines, metadata) are passed over.
func (d *listingData) put(kv *mvccpb.KeyValue) {
	k := d.r.k
	key := string(kv.Key)
	switch {
	case strings.HasPrefix(key, k.jobs()):
		name := key[len(k.jobs()):]
		if _, ok := d.jobs[name]; !ok {
			d.names.add(name)
		}
		d.jobs[name] = &record{kv: kv}
	case strings.HasPrefix(key, k.bodies()):
		d.bodies[key[len(k.bodies()):]] = &record{kv: kv}
	case strings.HasPrefix(key, k.scheduleAll()):
		machine, name, ok := strings.Cut(key[len(k.scheduleAll()):], "/")
		if !ok {
			d.r.skip(kv, ErrCorrupt)
			return
		}
		d.placed[name] = insertPlaced(d.placed[name], placed{machine: machine, rec: &record{kv: kv}})
	case strings.HasPrefix(key, k.states()):
		name, machine, ok := strings.Cut(key[len(k.states()):], "/")
		if !ok {
			d.r.skip(kv, ErrCorrupt)
			return
		}
		sk := stateKey(name, machine)
		if _, there := d.states[sk]; !there {
			d.stateKeys.add(sk)
		}
		d.states[sk] = &record{kv: kv}
	}
}

// delete applies the deletion of one record.
func (d *listingData) delete(key string) {
	k := d.r.k
	switch {
	case strings.HasPrefix(key, k.jobs()):
		name := key[len(k.jobs()):]
		if _, ok := d.jobs[name]; ok {
			delete(d.jobs, name)
			d.names.remove(name)
		}
	case strings.HasPrefix(key, k.bodies()):
		delete(d.bodies, key[len(k.bodies()):])
	case strings.HasPrefix(key, k.scheduleAll()):
		machine, name, _ := strings.Cut(key[len(k.scheduleAll()):], "/")
		ps := removePlaced(d.placed[name], machine)
		if len(ps) == 0 {
			delete(d.placed, name)
		} else {
			d.placed[name] = ps
		}
	case strings.HasPrefix(key, k.states()):
		name, machine, _ := strings.Cut(key[len(k.states()):], "/")
		sk := stateKey(name, machine)
		if _, there := d.states[sk]; there {
			delete(d.states, sk)
			d.stateKeys.remove(sk)
		}
	}
}

func insertPlaced(ps []placed, p placed) []placed {
	i := sort.Search(len(ps), func(i int) bool { return ps[i].machine >= p.machine })
	if i < len(ps) && ps[i].machine == p.machine {
		ps[i] = p
		return ps
	}
	ps = append(ps, placed{})
	copy(ps[i+1:], ps[i:])
	ps[i] = p
	return ps
}

func removePlaced(ps []placed, machine string) []placed {
	for i, p := range ps {
		if p.machine == machine {
			return append(ps[:i:i], ps[i+1:]...)
		}
	}
	return ps
}

// unit decodes what the copy holds of the unit name, whose job exists.
// Records that do not decode are skipped (and logged once) as the
// registry's own listings skip them; a job or body that does not is the
// unit's Err.
func (d *listingData) unit(name string) ListedUnit {
	u := ListedUnit{Name: name}
	j, err := d.r.decode(d.jobs[name], func(kv *mvccpb.KeyValue) (any, error) { return decodeJob(name, kv.Value) })
	if u.Job = j.(Job); err != nil {
		u.Err = err
		return u
	}
	h := u.Job.Hash
	brec, ok := d.bodies[h.String()]
	if !ok {
		u.Err = &missingBody{hash: h}
		return u
	}
	f, err := d.r.decode(brec, func(kv *mvccpb.KeyValue) (any, error) { return decodeBody(h, kv.Value) })
	if err != nil {
		u.Err = err
		return u
	}
	u.File = f.(*unit.File)
	for _, p := range d.placed[name] {
		if pl, ok := d.placement(p.rec); ok {
			u.Placements = append(u.Placements, pl)
		}
	}
	keys := d.stateKeys.sorted()
	for i := after(keys, name); i < len(keys) && strings.HasPrefix(keys[i], name+"\x00"); i++ {
		if st, ok := d.state(keys[i]); ok {
			u.States = append(u.States, st)
		}
	}
	return u
}

// placement decodes a schedule record.
func (d *listingData) placement(rec *record) (Placement, bool) {
	p, err := d.r.decode(rec, func(kv *mvccpb.KeyValue) (any, error) { return d.r.decodePlacement(string(kv.Key), kv.Value) })
	return p.(Placement), err == nil
}

// state decodes the state record at sk.
func (d *listingData) state(sk string) (UnitState, bool) {
	st, err := d.r.decode(d.states[sk], func(kv *mvccpb.KeyValue) (any, error) {
		return decodeState(string(kv.Key[len(d.r.k.states()):]), kv.Value)
	})
	return st.(UnitState), err == nil
}

// missingBody is the error of a job whose body is not in the registry.
type missingBody struct{ hash unit.Hash }

func (e *missingBody) Error() string { return ErrNotFound.Error() + ": unit body " + e.hash.Short() }
func (e *missingBody) Unwrap() error { return ErrNotFound }

// unitsAfter returns up to n units whose names sort after the name from
// ("" for the first page), and whether more follow.
func (d *listingData) unitsAfter(from string, n int) ([]ListedUnit, bool) {
	names := d.names.sorted()
	i := 0
	if from != "" {
		i = after(names, from)
	}
	end := min(i+n, len(names))
	out := make([]ListedUnit, 0, end-i)
	for _, name := range names[i:end] {
		out = append(out, d.unit(name))
	}
	return out, end < len(names)
}

// statesAfter returns up to n states whose stateKey sorts after the key
// from, of unit name and of machine when they are not "", and whether
// more follow. With a unit name the page costs its length; with only a
// machine, the states of other machines are passed over.
func (d *listingData) statesAfter(from string, n int, name, machine string) ([]ListedState, bool) {
	keys := d.stateKeys.sorted()
	if name != "" && from < name+"\x00" {
		from = name
	}
	i := 0
	if from != "" {
		i = after(keys, from)
	}
	var out []ListedState
	for ; i < len(keys); i++ {
		sk := keys[i]
		u, m, _ := strings.Cut(sk, "\x00")
		if name != "" && u != name {
			break
		}
		if machine != "" && m != machine {
			continue
		}
		st, ok := d.state(sk)
		if !ok {
			continue
		}
		if len(out) == n {
			return out, true
		}
		ls := ListedState{State: st}
		ps := d.placed[u]
		if j := sort.Search(len(ps), func(j int) bool { return ps[j].machine >= m }); j < len(ps) && ps[j].machine == m {
			if p, ok := d.placement(ps[j].rec); ok {
				ls.Port = p.Port
			}
		}
		out = append(out, ls)
	}
	return out, false
}
