package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// FillEtcd writes big values under /filler/ until etcd raises its
// no-space alarm.
func fillEtcd(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	big := strings.Repeat("x", 256<<10)
	for i := range 1000 {
		_, err := cli.Put(context.Background(), fmt.Sprintf("/filler/%d", i), big)
		if err != nil && strings.Contains(err.Error(), "space exceeded") {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("etcd never ran out of space")
}

// smallEtcd is an etcd whose backend quota is a few MiB.
func smallEtcd(t *testing.T) *etcdtest.Server {
	return etcdtest.StartTuned(t, func(c *embed.Config) { c.QuotaBackendBytes = 8 << 20 })
}

// When etcd runs out of space, writes say so and what to do, the alarm
// is reported, and the documented recovery (remove what filled it,
// compact, defragment, disarm) makes etcd writable again.
func TestOutOfSpaceAndItsRecovery(t *testing.T) {
	cli := smallEtcd(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	if err := r.CheckSpace(ctx); err != nil {
		t.Fatalf("CheckSpace on a fresh etcd: %v", err)
	}
	fillEtcd(t, cli)
	err := r.CreateUnit(ctx, "hello.service", hello(t), unit.StateLaunched)
	if !errors.Is(err, registry.ErrNoSpace) || !strings.Contains(err.Error(), "etcd is out of space") || !strings.Contains(err.Error(), "defrag") {
		t.Fatalf("a write to a full etcd: %v; want ErrNoSpace telling what to do", err)
	}
	if err := r.SetMetadata(ctx, "m1", "disk", "ssd"); !errors.Is(err, registry.ErrNoSpace) {
		t.Fatalf("SetMetadata on a full etcd: %v, want ErrNoSpace", err)
	}
	put := []registry.Change{{Placement: registry.Placement{Unit: "a.service", Machine: "m1"}}}
	if _, err := r.Commit(ctx, registry.Guard{}, put); !errors.Is(err, registry.ErrNoSpace) {
		t.Fatalf("Commit on a full etcd: %v, want ErrNoSpace", err)
	}
	if err := r.CheckSpace(ctx); !errors.Is(err, registry.ErrNoSpace) || !strings.Contains(err.Error(), "NOSPACE") {
		t.Fatalf("CheckSpace on a full etcd: %v; want ErrNoSpace naming the alarm", err)
	}
	if _, err := cli.Delete(ctx, "/filler/", clientv3.WithPrefix()); err != nil {
		t.Fatalf("deleting is allowed on a full etcd, but: %v", err)
	}
	if err := r.ReclaimSpace(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.CheckSpace(ctx); err != nil {
		t.Fatalf("CheckSpace after the recovery: %v", err)
	}
	if err := r.CreateUnit(ctx, "hello.service", hello(t), unit.StateLaunched); err != nil {
		t.Fatalf("a write after the recovery: %v", err)
	}
}
