package fleetd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

func TestEmbeddedEtcdCompactsItsHistory(t *testing.T) {
	c := testConfig(t, "m1")
	c.EtcdAutoCompactionRetention = time.Second
	c.Verbosity = 2 // etcd's info too: it says when it compacts
	var logs syncBuffer
	ctx := context.Background()
	e, err := startEmbedded(ctx, c, NewLogger(&logs, c))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cli, err := dialEtcd(c, []string{"http://" + e.Clients[0].Addr().String()}, NewLogger(&logs, c))
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	first, err := cli.Put(ctx, "/k", "0")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first revision compacted away", 20*time.Second, func() bool {
		if _, err := cli.Put(ctx, "/k", "more"); err != nil {
			t.Fatal(err)
		}
		_, err := cli.Get(ctx, "/k", clientv3.WithRev(first.Header.Revision))
		return errors.Is(err, rpctypes.ErrCompacted)
	})
	if !strings.Contains(logs.String(), "level=INFO msg=\"finished scheduled compaction\" component=etcd") {
		t.Errorf("etcd's own log of its compaction is not in fleetd's log:\n%s", logs.String())
	}
}

// fill writes big values under /filler/ until etcd refuses for space.
func fill(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	big := strings.Repeat("x", 256<<10)
	for i := range 1000 {
		if _, err := cli.Put(context.Background(), fmt.Sprintf("/filler/%d", i), big); err != nil {
			if strings.Contains(err.Error(), "space exceeded") {
				return
			}
			t.Fatal(err)
		}
	}
	t.Fatal("etcd never ran out of space")
}

// reclaim is the recovery the README gives, through etcd's client: remove
// what filled etcd, compact, defragment, disarm.
func reclaim(t *testing.T, cli *clientv3.Client) {
	t.Helper()
	ctx := context.Background()
	del, err := cli.Delete(ctx, "/filler/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(ctx, del.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	for _, ep := range cli.Endpoints() {
		if _, err := cli.Defragment(ctx, ep); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.AlarmDisarm(ctx, &clientv3.AlarmMember{}); err != nil {
		t.Fatal(err)
	}
}

// When the embedded etcd fills its quota, /healthz fails naming it and
// writes through the API say so with what to do; the README's recovery
// brings both back.
func TestEtcdOutOfSpace(t *testing.T) {
	c := testConfig(t, "m1")
	c.APIListen = append(c.APIListen, "http://127.0.0.1:0")
	c.EtcdQuotaBackendBytes = 8 << 20
	d := startDaemon(t, c)
	base := d.d.Endpoints()[1]
	eventually(t, "healthz ok", 10*time.Second, func() bool { _, code := get(t, base+"/healthz"); return code == 200 })
	cli, err := dialEtcd(c, []string{d.d.EtcdURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	fill(t, cli)
	body, code := get(t, base+"/healthz")
	if code != 503 || !strings.Contains(body, "etcd is out of space") || !strings.Contains(body, "NOSPACE") {
		t.Fatalf("healthz of a full etcd: %d %s", code, body)
	}
	ctx := context.Background()
	u := &api.Unit{Name: "a.service", DesiredState: "launched",
		Options: []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}}
	err = d.client(t).CreateUnit(ctx, u)
	if err == nil || !strings.Contains(err.Error(), "etcd is out of space") || !strings.Contains(err.Error(), "defrag") {
		t.Fatalf("a submit to a full etcd: %v; want it to say etcd is out of space and what to do", err)
	}
	reclaim(t, cli)
	if body, code := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz after the recovery: %d %s", code, body)
	}
	if err := d.client(t).CreateUnit(ctx, u); err != nil {
		t.Fatalf("a submit after the recovery: %v", err)
	}
}

// A corrupt job written straight into etcd is counted in /metrics once,
// listed as broken, and every other unit is scheduled as usual.
func TestCorruptRecordsAreCountedAndOtherUnitsRun(t *testing.T) {
	c := testConfig(t, "m1")
	c.APIListen = append(c.APIListen, "http://127.0.0.1:0")
	d := startDaemon(t, c)
	base := d.d.Endpoints()[1]
	metric := func() string {
		body, _ := get(t, base+"/metrics")
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "fleetd_registry_corrupt_records_total ") {
				return line
			}
		}
		return "none in " + body
	}
	if m := metric(); m != "fleetd_registry_corrupt_records_total 0" {
		t.Fatalf("before: %s", m)
	}
	cli, err := dialEtcd(c, []string{d.d.EtcdURL()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(context.Background(), c.EtcdKeyPrefix+"job/bad.service", "{garbage"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the corrupt job counted", 10*time.Second, func() bool {
		return metric() == "fleetd_registry_corrupt_records_total 1"
	})
	u := &api.Unit{Name: "good.service", DesiredState: "launched",
		Options: []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}}
	if err := d.client(t).CreateUnit(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	eventually(t, "good.service running", 10*time.Second, func() bool {
		return strings.Join(d.sd.Active(), " ") == "good.service"
	})
	units, err := d.client(t).Units(context.Background())
	if err != nil || len(units) != 2 || units[0].Error == "" || units[1].Error != "" || units[1].CurrentState != "launched" {
		t.Fatalf("units = %+v, %v; want bad.service broken and good.service launched", units, err)
	}
	if m := metric(); m != "fleetd_registry_corrupt_records_total 1" {
		t.Fatalf("after listing it again: %s; want it counted once", m)
	}
}

// The embedded member runs the raft timing fleet.conf gives it, and a
// timing etcd would refuse is refused first, naming the option.
func TestEmbeddedEtcdRaftTiming(t *testing.T) {
	var c Config
	if err := c.ReadFile("fleet.conf", strings.NewReader("etcd_heartbeat_interval=250ms\netcd_election_timeout=2.5\n")); err != nil {
		t.Fatal(err)
	}
	base := testConfig(t, "m1")
	base.EtcdHeartbeatInterval, base.EtcdElectionTimeout = c.EtcdHeartbeatInterval, c.EtcdElectionTimeout
	var logs syncBuffer
	e, err := startEmbedded(context.Background(), base, NewLogger(&logs, base))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if tick, election := e.Server.Cfg.TickMs, e.Server.Cfg.ElectionTicks; tick != 250 || election != 10 {
		t.Fatalf("etcd runs a %d ms heartbeat and a %d-heartbeat election timeout, want 250 ms and 10", tick, election)
	}
	base.EtcdElectionTimeout = time.Second // four heartbeats
	_, err = startEmbedded(context.Background(), base, NewLogger(&logs, base))
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "etcd_election_timeout") {
		t.Fatalf("an election timeout of four heartbeats: %v, want a config error naming etcd_election_timeout", err)
	}
}
