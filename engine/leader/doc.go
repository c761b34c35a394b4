// Package leader is the engine leader's decisions as a pure step, in the
// shape of etcd's raft RawNode: inputs go in through methods (a view of
// the cluster at a revision, unit bodies it asked for, the outcome of a
// commit it asked for, leadership won or lost, ticks), and Ready returns
// what to do now: bodies to read, changes to commit with the revision
// they were planned from, the plan just made and the units left out.
//
// The step decides when to plan (only from a view that has caught up with
// its own last commit, never with a commit in flight, again after a view
// changes or a failed commit's next tick, but not over the view that is
// exactly its own last commit applied, which the scheduler would plan to
// no action), how to build the scheduler's
// input (units whose [X-Fleet] does not parse, or whose body is missing,
// are left out with their placements so that they never stop the others),
// and what to write (the plan's actions, plus refreshing the hash and
// desired state that placements carry for the agents). It holds no
// goroutine, clock, I/O, etcd or D-Bus type. fleetd's engine drives it
// over etcd; the simulator drives the same step over its virtual
// registry.
package leader
