package soak

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/lab/cluster"
	"github.com/fleetsim/fleet/lab/nsboot"
	"github.com/fleetsim/fleet/unit"
)

// The soak's lab, beside `make lab-up`'s and the end-to-end tests'.
const (
	labName   = "fleetsoak"
	labSubnet = "10.77.3"
	labDir    = "/run/fleetsoak"
	machines  = 4
	// retention is the members' compaction: short, so that the
	// database levels off within a soak of minutes.
	retention = time.Minute
	// slots is how many units churn at once.
	slots = 8
)

// watched is the machine whose fleetd is sampled: it is never killed.
const watched = "core-01"

func TestSoak(t *testing.T) {
	if os.Getenv("SOAK") != "1" {
		t.Skip("a soak of minutes: run with SOAK=1 (make soak)")
	}
	if err := nsboot.Check(); err != nil {
		t.Skipf("the lab cannot run here: %v", err)
	}
	duration := 5 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			t.Fatalf("SOAK_DURATION=%q: want a duration of a minute or more, like 5m or 1h", v)
		}
		duration = d
	}
	lab := boot(t)
	cli := etcdClient(t, lab)
	m := lab.Machine(watched)
	ctx := context.Background()

	settle(t, lab)
	start := sampleAt(t, cli, lab, m, 0)
	begun := time.Now()
	var ops, failed atomic.Int64
	churnCtx, stopChurn := context.WithCancel(ctx)
	churned := make(chan int)
	go func() { churned <- churn(churnCtx, lab, &ops, &failed) }()
	killed := make(chan error, 1)
	go func() { killed <- killAndReturn(churnCtx, t, lab, duration) }()

	time.Sleep(duration / 2)
	middle := sampleAt(t, cli, lab, m, time.Since(begun))
	time.Sleep(time.Until(begun.Add(duration)))
	stopChurn()
	bodies := <-churned
	if err := <-killed; err != nil {
		t.Errorf("killing and booting machines: %v", err)
	}
	t.Logf("churn over after %v: %d units with distinct bodies, %d API calls, %d failed (machines dying)",
		time.Since(begun).Round(time.Second), bodies, ops.Load(), failed.Load())

	cleanUp(t, lab, cli, start.Keys)
	time.Sleep(retention + 10*time.Second) // one more compaction
	settle(t, lab)
	end := sampleAt(t, cli, lab, m, time.Since(begun))

	report := fmt.Sprintf("soak of %v on %d machines (etcd over TLS, compaction every %v), %s's fleetd watched:\n  start %v\n  middle %v\n  end   %v",
		duration, machines, retention, watched, start, middle, end)
	fmt.Println(report)
	for _, p := range judge(start, middle, end) {
		t.Error(p)
	}
	if bodies < 10 {
		t.Errorf("the churn made only %d units: it did not run", bodies)
	}
}

// boot starts the soak's lab, after removing what a crashed run left,
// and tears it down when the test ends.
func boot(t *testing.T) *cluster.Cluster {
	t.Helper()
	fleetd, err := filepath.Abs("../../bin/fleetd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fleetd); err != nil {
		t.Fatalf("%v: run make build (make soak does)", err)
	}
	if owner, ok := cluster.InUse(labDir); ok {
		t.Fatalf("the lab %s is in use by process %d", labName, owner.PID)
	}
	if _, err := cluster.Teardown(labName, labDir); err != nil {
		t.Fatalf("removing an earlier run's leftovers: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lab, err := cluster.Start(ctx, cluster.Config{Name: labName, Machines: machines, Subnet: labSubnet,
		Fleetd: fleetd, Dir: labDir, EtcdCompaction: retention})
	if err != nil {
		t.Fatalf("booting the lab: %v", err)
	}
	t.Cleanup(func() {
		if err := lab.Close(); err != nil {
			t.Errorf("tearing the lab down: %v", err)
		}
		if n, err := cluster.Teardown(labName, labDir); n > 0 || err != nil {
			t.Errorf("the lab left %d things behind (%v)", n, err)
		}
	})
	return lab
}

// etcdClient reaches the lab's etcd with the host's certificate.
func etcdClient(t *testing.T, lab *cluster.Cluster) *clientv3.Client {
	t.Helper()
	files := lab.TLS()
	var cfg *tls.Config
	if files.CertFile != "" {
		var err error
		info := transport.TLSInfo{CertFile: files.CertFile, KeyFile: files.KeyFile, TrustedCAFile: files.CAFile}
		if cfg, err = info.ClientConfig(); err != nil {
			t.Fatal(err)
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: lab.EtcdEndpoints(), DialTimeout: 5 * time.Second, TLS: cfg, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func sampleAt(t *testing.T, cli *clientv3.Client, lab *cluster.Cluster, m *cluster.Machine, at time.Duration) Sample {
	t.Helper()
	var s Sample
	err := cluster.Poll(context.Background(), "a sample", func(ctx context.Context) (bool, error) {
		var err error
		s, err = take(ctx, cli, lab.EtcdEndpoints(), m)
		return err == nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.At = at
	t.Logf("sample: %v", s)
	return s
}

// settle waits for every machine to be up and listed, and a few seconds
// of rest, so that the samples at the start and the end compare.
func settle(t *testing.T, lab *cluster.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, m := range lab.Machines() {
		if !m.Up() {
			if err := m.Boot(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := lab.WaitMachines(ctx, machines); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
}

// churn submits, starts, stops and destroys units until ctx ends, every
// one with a body of its own, through the watched machine's API; it
// returns how many units it made.
func churn(ctx context.Context, lab *cluster.Cluster, ops, failed *atomic.Int64) int {
	c := lab.Machine(watched).Client()
	call := func(f func(context.Context) error) bool {
		ops.Add(1)
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f(cctx); err != nil {
			failed.Add(1)
			return false
		}
		return true
	}
	made := 0
	for n := 0; ctx.Err() == nil; n++ {
		name := fmt.Sprintf("soak-%d.service", n%slots)
		if n >= slots {
			call(func(ctx context.Context) error { return c.SetUnitTargetState(ctx, name, "inactive") })
			call(func(ctx context.Context) error { return c.DestroyUnit(ctx, name) })
		}
		u := &api.Unit{Name: name, DesiredState: "launched", Options: []unit.Option{
			{Section: "Unit", Name: "Description", Value: fmt.Sprintf("soak unit, body %d", n)},
			{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 86400"},
			{Section: "Service", Name: "Environment", Value: fmt.Sprintf("SOAK_BODY=%d", n)},
		}}
		if call(func(ctx context.Context) error { return c.CreateUnit(ctx, u) }) {
			made++
		}
		if n%slots == slots-1 {
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	return made
}

// killAndReturn crashes the machines other than the watched one in
// turn, each about five times a soak, and boots each back after a
// while, until ctx ends.
func killAndReturn(ctx context.Context, t *testing.T, lab *cluster.Cluster, duration time.Duration) error {
	every := max(duration/6, 30*time.Second)
	var victims []*cluster.Machine
	for _, m := range lab.Machines() {
		if m.Hostname != watched {
			victims = append(victims, m)
		}
	}
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every / 2):
		}
		v := victims[i%len(victims)]
		if err := v.Kill(); err != nil {
			return fmt.Errorf("kill %s: %w", v.Hostname, err)
		}
		t.Logf("killed %s", v.Hostname)
		select {
		case <-ctx.Done():
		case <-time.After(every / 2):
		}
		bctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := v.Boot(bctx)
		if err == nil {
			err = lab.WaitRegistered(bctx, v)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("boot %s again: %w", v.Hostname, err)
		}
		t.Logf("%s back", v.Hostname)
	}
}

// cleanUp destroys what the churn left and waits for etcd's key count
// to come back to its baseline; when it does not, it shows what stayed.
func cleanUp(t *testing.T, lab *cluster.Cluster, cli *clientv3.Client, baseline int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := lab.Machine(watched).Client()
	err := cluster.Poll(ctx, "the soak's units destroyed", func(ctx context.Context) (bool, error) {
		us, err := c.Units(ctx)
		if err != nil {
			return false, err
		}
		for _, u := range us {
			if strings.HasPrefix(u.Name, "soak-") {
				if err := c.DestroyUnit(ctx, u.Name); err != nil && !api.IsNotFound(err) {
					return false, err
				}
			}
		}
		return len(us) == 0, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys int64
	err = cluster.Poll(ctx, "etcd's key count back to its baseline", func(ctx context.Context) (bool, error) {
		resp, err := cli.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
		if err != nil {
			return false, err
		}
		keys = resp.Count
		return keys <= baseline, nil
	})
	if err != nil {
		groups, gerr := keyGroups(context.Background(), cli)
		var lines []string
		for k, n := range groups {
			lines = append(lines, fmt.Sprintf("%5d %s", n, k))
		}
		sort.Strings(lines)
		t.Logf("keys still in etcd (%d, baseline %d): %v\n%s", keys, baseline, gerr, strings.Join(lines, "\n"))
	}
}
