package engine_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/internal/tcpproxy"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// exactlyOnce reports whether every named unit runs on exactly one node.
func exactlyOnce(nodes []*node, names []string) bool {
	r := running(nodes)
	for _, n := range names {
		if len(r[n]) != 1 {
			return false
		}
	}
	return true
}

// neverTwice fails the test if a unit runs on two nodes at once.
func neverTwice(t *testing.T, nodes []*node) {
	t.Helper()
	for u, on := range running(nodes) {
		if len(on) > 1 {
			t.Fatalf("%s runs on %v at once", u, on)
		}
	}
}

func TestLeaderChangeMidReconcileLosesAndDoublesNothing(t *testing.T) {
	srv := etcdtest.Start(t)
	reg := registry.New(srv.Client(t), "")
	nodes := []*node{startNode(t, srv, "m1", nil), startNode(t, srv, "m2", nil), startNode(t, srv, "m3", nil)}
	waitFor(t, "a leader", 10*time.Second, func() bool { return leader(nodes) != nil })
	var names []string
	for i := 0; i < 30; i++ {
		name := fmt.Sprintf("job%02d.service", i)
		names = append(names, name)
		submit(t, reg, name, "", unit.StateLaunched)
		if i == 10 {
			l := leader(nodes)
			l.stop() // the leader dies while units are being submitted and placed
			nodes = without(nodes, l)
		}
	}
	deadline := time.Now().Add(ttl + 15*time.Second)
	for time.Now().Before(deadline) && !exactlyOnce(nodes, names) {
		neverTwice(t, nodes)
		time.Sleep(20 * time.Millisecond)
	}
	if !exactlyOnce(nodes, names) {
		t.Fatalf("not every unit runs exactly once: %v", running(nodes))
	}
}

func TestEtcdRestartKeepsUnitsRunning(t *testing.T) {
	dir := t.TempDir()
	client, peer := freeAddr(t), freeAddr(t)
	srv := etcdtest.StartAt(t, dir, client, peer)
	reg := registry.New(srv.Client(t), "")
	nodes := []*node{startNode(t, srv, "m1", nil), startNode(t, srv, "m2", nil)}
	names := []string{"a.service", "b.service", "c.service"}
	for _, n := range names {
		submit(t, reg, n, "", unit.StateLaunched)
	}
	waitFor(t, "units running", 10*time.Second, func() bool { return exactlyOnce(nodes, names) })
	before := running(nodes)

	srv.Stop()
	t.Log("etcd stopped")
	time.Sleep(2 * ttl) // longer than the agents' leases: units must not stop
	if got := running(nodes); !sameRunning(got, before) {
		t.Fatalf("units changed while etcd was down: %v, was %v", got, before)
	}

	etcdtest.StartAt(t, dir, client, peer) // same member, same data, same address
	t.Log("etcd restarted")
	var lastErr error
	var ms []registry.Machine
	defer func() {
		if t.Failed() {
			t.Logf("machines %v, last error %v, running %v", ms, lastErr, running(nodes))
		}
	}()
	waitFor(t, "the cluster back, every unit once", 20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		ms, lastErr = reg.Machines(ctx)
		return lastErr == nil && len(ms) == 2 && exactlyOnce(nodes, names)
	})
	neverTwice(t, nodes)
}

func sameRunning(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for u, on := range a {
		if len(b[u]) != 1 || len(on) != 1 || b[u][0] != on[0] {
			return false
		}
	}
	return true
}

func leader(nodes []*node) *node {
	for _, n := range nodes {
		if n.eng.Leading() {
			return n
		}
	}
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestCutOffMachineStopsItsCopiesOnReconnect(t *testing.T) {
	srv := etcdtest.Start(t)
	reg := registry.New(srv.Client(t), "")
	p, err := tcpproxy.New(strings.TrimPrefix(srv.Endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cut)
	cut := startNodeAt(t, "http://"+p.Addr(), "m1")
	nodes := []*node{cut, startNode(t, srv, "m2", nil)}
	names := []string{"a.service", "b.service"}
	for _, n := range names {
		submit(t, reg, n, "Conflicts=a.service b.service\n", unit.StateLaunched)
	}
	waitFor(t, "one unit on each machine", 10*time.Second, func() bool { return exactlyOnce(nodes, names) })
	stranded := cut.sd.Active()[0]

	p.Cut()
	// m1's lease lapses; its unit cannot move to m2 (they conflict), so
	// give it a machine: m3 joins.
	third := startNode(t, srv, "m3", nil)
	nodes = append(nodes, third)
	waitFor(t, stranded+" started on m3", ttl+10*time.Second, func() bool {
		return len(third.sd.Active()) == 1 && third.sd.Active()[0] == stranded
	})
	if got := cut.sd.Active(); len(got) != 1 {
		t.Fatalf("the cut-off machine stopped its units without etcd: %v", got)
	}

	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cut-off copy stopped", 20*time.Second, func() bool { return len(cut.sd.Active()) == 0 })
	if !exactlyOnce(nodes, names) {
		t.Fatalf("after the heal: %v", running(nodes))
	}
}
