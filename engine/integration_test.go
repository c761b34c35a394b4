package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/agent/runner"
	"github.com/fleetsim/fleet/engine"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

const (
	ttl      = 2 * time.Second
	interval = 200 * time.Millisecond
)

// node is one fleetd of the test cluster: an engine and an agent over an
// in-memory systemd, sharing one real etcd.
type node struct {
	id     string
	sd     *memsd.Systemd
	eng    *engine.Engine
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startNode(t *testing.T, srv *etcdtest.Server, id string, md map[string]string) *node {
	t.Helper()
	return startNodeWith(t, registry.New(srv.Client(t), ""), id, md)
}

// startNodeAt starts a node whose etcd client goes to endpoint.
func startNodeAt(t *testing.T, endpoint, id string) *node {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return startNodeWith(t, registry.New(cli, ""), id, nil)
}

func startNodeWith(t *testing.T, reg *registry.Etcd, id string, md map[string]string) *node {
	t.Helper()
	n := &node{id: id, sd: memsd.New()}
	n.eng = engine.New(reg, engine.Config{MachineID: id, Interval: interval, LeaderTTL: time.Second})
	ag := runner.New(reg, n.sd, runner.Config{Machine: registry.Machine{ID: id, PublicIP: "10.0.0." + id[1:], Metadata: md}, TTL: ttl, Interval: 500 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.done.Add(2)
	go func() { defer n.done.Done(); _ = n.eng.Run(ctx) }()
	go func() { defer n.done.Done(); _ = ag.Run(ctx) }()
	t.Cleanup(n.stop)
	return n
}

// stop kills the node's fleetd: its lease is not revoked, it expires.
func (n *node) stop() {
	n.cancel()
	n.done.Wait()
}

// submit writes a unit straight into the registry, as the etcd driver
// does: its [X-Fleet] section is not checked on the way.
func submit(t *testing.T, reg *registry.Etcd, name, xfleet string, state unit.State) {
	t.Helper()
	f, err := unit.ParseString("[Service]\nExecStart=/bin/sleep 1000\n[X-Fleet]\n" + xfleet)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.CreateUnit(context.Background(), name, f, state); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

// running maps each active unit to the nodes running it.
func running(nodes []*node) map[string][]string {
	out := map[string][]string{}
	for _, n := range nodes {
		for _, u := range n.sd.Active() {
			out[u] = append(out[u], n.id)
		}
	}
	return out
}

func TestClusterLifecycleAndFailover(t *testing.T) {
	srv := etcdtest.Start(t)
	reg := registry.New(srv.Client(t), "")
	nodes := []*node{
		startNode(t, srv, "m1", map[string]string{"region": "eu"}),
		startNode(t, srv, "m2", map[string]string{"region": "us"}),
		startNode(t, srv, "m3", map[string]string{"region": "eu"}),
	}
	for i := 1; i <= 3; i++ {
		submit(t, reg, fmt.Sprintf("web@%d.service", i), "Conflicts=web@*\n", unit.StateLaunched)
	}
	submit(t, reg, "db.service", "MachineMetadata=region=eu\nPorts=20001-20005\n", unit.StateLaunched)
	submit(t, reg, "backup.service", "MachineOf=db.service\n", unit.StateLaunched)
	submit(t, reg, "agent.service", "Global=true\n", unit.StateLaunched)
	submit(t, reg, "idle.service", "", unit.StateLoaded)
	submit(t, reg, "pinned.service", "MachineID=m2\n", unit.StateLaunched)
	submit(t, reg, "old.service", "MachineID=m3\n", unit.StateLaunched)

	defer func() {
		if t.Failed() {
			dump(t, reg, nodes)
		}
	}()
	waitFor(t, "every unit active", 20*time.Second, func() bool {
		r := running(nodes)
		return len(r["agent.service"]) == 3 && len(r["db.service"]) == 1 && len(r["web@1.service"]) == 1 &&
			len(r["web@2.service"]) == 1 && len(r["web@3.service"]) == 1 && len(r["backup.service"]) == 1
	})
	r := running(nodes)
	if r["backup.service"][0] != r["db.service"][0] {
		t.Fatalf("MachineOf broken: backup on %v, db on %v", r["backup.service"], r["db.service"])
	}
	if len(r["idle.service"]) != 0 {
		t.Fatalf("a loaded unit runs: %v", r["idle.service"])
	}
	if on := r["pinned.service"]; len(on) != 1 || on[0] != "m2" {
		t.Fatalf("MachineID=m2 unit runs on %v", on)
	}

	// Replaces: a unit that may go to old.service's machine takes it (the
	// least loaded eu machine), and old.service, pinned there by
	// MachineID, has to stop. A unit whose [X-Fleet] is invalid (it
	// reached etcd without the API's checks) blocks nothing.
	submit(t, reg, "broken.service", "Replaces=old.service\nConflicts=db.service\n", unit.StateLaunched)
	submit(t, reg, "new.service", "Replaces=old.service\nMachineMetadata=region=eu\n", unit.StateLaunched)
	waitFor(t, "new.service replacing old.service", 10*time.Second, func() bool {
		r := running(nodes)
		return len(r["new.service"]) == 1 && r["new.service"][0] == "m3" && len(r["old.service"]) == 0
	})
	dbNode := nodeByID(nodes, r["db.service"][0])
	if dbNode.sd.Port("db.service") != 20001 {
		t.Fatalf("db.service port = %d, want 20001", dbNode.sd.Port("db.service"))
	}

	// The machine running db.service dies: db and its follower come back
	// together on the other eu machine within agent_ttl plus two
	// reconcile intervals (and etcd's lease granularity: with these
	// election settings a lease lapses up to about 0.5 s late).
	killed := time.Now()
	dbNode.stop()
	alive := without(nodes, dbNode)
	bound := ttl + 2*interval + 500*time.Millisecond
	waitFor(t, "db.service relaunched", bound, func() bool {
		r := running(alive)
		return len(r["db.service"]) == 1 && len(r["backup.service"]) == 1 && r["db.service"][0] == r["backup.service"][0]
	})
	t.Logf("failover took %v (bound %v)", time.Since(killed).Round(time.Millisecond), bound)
	if got := running(alive)["db.service"][0]; got != otherEU(dbNode.id) {
		t.Fatalf("db.service moved to %s, want the other eu machine %s", got, otherEU(dbNode.id))
	}

	// Stop (launched -> loaded) then destroy.
	if err := reg.SetDesired(context.Background(), "db.service", unit.StateLoaded); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "db.service stopped", 10*time.Second, func() bool { return len(running(alive)["db.service"]) == 0 })
	if err := reg.DestroyUnit(context.Background(), "web@1.service"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web@1.service gone", 10*time.Second, func() bool { return len(running(alive)["web@1.service"]) == 0 })
}

func nodeByID(nodes []*node, id string) *node {
	for _, n := range nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

func without(nodes []*node, x *node) []*node {
	var out []*node
	for _, n := range nodes {
		if n != x {
			out = append(out, n)
		}
	}
	return out
}

func otherEU(id string) string {
	if id == "m1" {
		return "m3"
	}
	return "m1"
}

// dump logs what the cluster looks like, to explain a failure.
func dump(t *testing.T, reg *registry.Etcd, nodes []*node) {
	ctx := context.Background()
	sched, err := reg.Schedule(ctx)
	t.Logf("schedule (%v):", err)
	for _, p := range sched {
		t.Logf("  %s on %s port %d %s", p.Unit, p.Machine, p.Port, p.Desired)
	}
	ms, err := reg.Machines(ctx)
	t.Logf("machines %+v (%v)", ms, err)
	for _, n := range nodes {
		t.Logf("%s leading=%v active=%v", n.id, n.eng.Leading(), n.sd.Active())
		if p := n.eng.LastPlan(); p != nil {
			for _, u := range p.Unscheduled {
				t.Logf("  last plan: unscheduled %s: %s", u.Unit, u.Detail)
			}
		}
	}
}
