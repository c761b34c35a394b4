package engine_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/fleetsim/fleet/engine"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// BenchmarkCommit10kUnits100Machines measures one engine reconcile that
// places 10,000 units over 100 machines in one embedded etcd, committed in
// guarded transactions. Each machine has an agent-style watch on its own
// schedule; the benchmark reports placements per second, etcd requests
// per placement, and watch events delivered to agents for placements that
// are not theirs (the thundering herd fleet had: the target is 0).
func BenchmarkCommit10kUnits100Machines(b *testing.B) {
	const machines, units = 100, 10000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		srv := etcdtest.Start(b)
		var requests atomic.Int64
		cli := countingClient(b, srv.Endpoint, &requests)
		reg := registry.New(cli, "")
		ctx, cancel := context.WithCancel(context.Background())
		registerMachines(b, reg, cli, machines)
		submitUnits(b, reg, units)
		var delivered, foreign atomic.Int64
		var wg sync.WaitGroup
		for m := 0; m < machines; m++ {
			id := fmt.Sprintf("m%03d", m)
			wch := reg.WatchMachineSchedule(ctx, id, 0)
			wg.Add(1)
			go countEvents(&wg, wch, reg.Prefix()+"schedule/"+id+"/", &delivered, &foreign)
		}
		view := loadView(b, reg)
		eng := engine.New(reg, engine.Config{MachineID: "m000"})
		requests.Store(0)
		b.StartTimer()
		start := time.Now()
		plan, err := eng.Reconcile(ctx, view, registry.Guard{})
		elapsed := time.Since(start)
		b.StopTimer()
		if err != nil || len(plan.Actions) != units {
			b.Fatalf("reconcile: %v, %d actions", err, len(plan.Actions))
		}
		waitDelivered(b, &delivered, units)
		cancel()
		wg.Wait()
		sent := requests.Load()
		b.ReportMetric(float64(units)/elapsed.Seconds(), "placements/s")
		b.ReportMetric(float64(sent)/float64(units), "etcd-requests/placement")
		b.ReportMetric(float64(foreign.Load()), "foreign-watch-events")
		b.ReportMetric(0, "ns/op")
		srv.Stop()
	}
}

// countingClient is a client of endpoint that counts the unary requests
// it sends (gets, puts, transactions; not watch streams).
func countingClient(b *testing.B, endpoint string, n *atomic.Int64) *clientv3.Client {
	count := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		n.Add(1)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop(), DialOptions: []grpc.DialOption{grpc.WithUnaryInterceptor(count)}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cli.Close() })
	return cli
}

func registerMachines(b *testing.B, reg *registry.Etcd, cli *clientv3.Client, n int) {
	lease, err := cli.Grant(context.Background(), 600)
	if err != nil {
		b.Fatal(err)
	}
	for m := 0; m < n; m++ {
		md := map[string]string{"region": []string{"eu", "us"}[m%2]}
		if err := reg.RegisterMachine(context.Background(), registry.Machine{ID: fmt.Sprintf("m%03d", m), Metadata: md}, lease.ID); err != nil {
			b.Fatal(err)
		}
	}
}

func submitUnits(b *testing.B, reg *registry.Etcd, n int) {
	for u := 0; u < n; u++ {
		xf := ""
		switch u % 4 {
		case 1:
			xf = "MachineMetadata=region=eu\n"
		case 2:
			xf = "Conflicts=spread-" + fmt.Sprint(u/400) + "@*\n"
		case 3:
			xf = "Ports=20000-20199\n"
		}
		name := fmt.Sprintf("u%05d.service", u)
		if u%4 == 2 {
			name = fmt.Sprintf("spread-%d@%d.service", u/400, u)
		}
		f, err := unit.ParseString("[Service]\nExecStart=/bin/sleep 1000\n[X-Fleet]\n" + xf)
		if err != nil {
			b.Fatal(err)
		}
		if err := reg.CreateUnit(context.Background(), name, f, unit.StateLaunched); err != nil {
			b.Fatal(err)
		}
	}
}

func loadView(b *testing.B, reg *registry.Etcd) registry.View {
	c, err := reg.LoadCluster(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return c.View()
}

// countEvents counts a machine's watch events, and those whose key is not
// under that machine's schedule.
func countEvents(wg *sync.WaitGroup, wch clientv3.WatchChan, own string, delivered, foreign *atomic.Int64) {
	defer wg.Done()
	for resp := range wch {
		for _, ev := range resp.Events {
			delivered.Add(1)
			if len(ev.Kv.Key) < len(own) || string(ev.Kv.Key[:len(own)]) != own {
				foreign.Add(1)
			}
		}
	}
}

func waitDelivered(b *testing.B, delivered *atomic.Int64, want int64) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if delivered.Load() >= want {
			return
		}
	}
	b.Fatalf("agents saw %d schedule events, want %d", delivered.Load(), want)
}

// BenchmarkFailover10kUnits100Machines measures the reconcile that moves
// the units of 10 lost machines (of 100; 10,000 units placed): by the
// leader that placed them (warm: it has parsed the units and indexed them
// before) and by a new leader (cold). It reports moves per second and
// etcd requests per move.
func BenchmarkFailover10kUnits100Machines(b *testing.B) {
	const machines, units = 100, 10000
	for _, warm := range []bool{true, false} {
		name := "cold"
		if warm {
			name = "warm"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				srv := etcdtest.Start(b)
				var requests atomic.Int64
				cli := countingClient(b, srv.Endpoint, &requests)
				reg := registry.New(cli, "")
				lost := registerMachinesLosing(b, reg, cli, machines, 10)
				submitUnits(b, reg, units)
				eng := engine.New(reg, engine.Config{MachineID: "m000"})
				if _, err := eng.Reconcile(context.Background(), loadView(b, reg), registry.Guard{}); err != nil {
					b.Fatal(err)
				}
				if _, err := cli.Revoke(context.Background(), lost); err != nil {
					b.Fatal(err)
				}
				view := loadView(b, reg)
				if !warm {
					eng = engine.New(reg, engine.Config{MachineID: "m001"})
				}
				requests.Store(0)
				b.StartTimer()
				start := time.Now()
				plan, err := eng.Reconcile(context.Background(), view, registry.Guard{})
				elapsed := time.Since(start)
				b.StopTimer()
				if err != nil || len(plan.Actions) < units/10 {
					b.Fatalf("reconcile after the loss: %v, %d actions", err, len(plan.Actions))
				}
				b.ReportMetric(float64(len(plan.Actions))/elapsed.Seconds(), "moves/s")
				b.ReportMetric(float64(requests.Load())/float64(len(plan.Actions)), "etcd-requests/move")
				b.ReportMetric(float64(len(plan.Actions)), "moves")
				b.ReportMetric(0, "ns/op")
				srv.Stop()
			}
		})
	}
}

// registerMachinesLosing registers n machines, the last lose of them
// under a lease of their own, which it returns: revoking it loses them.
func registerMachinesLosing(b *testing.B, reg *registry.Etcd, cli *clientv3.Client, n, lose int) clientv3.LeaseID {
	kept, err := cli.Grant(context.Background(), 600)
	if err != nil {
		b.Fatal(err)
	}
	lost, err := cli.Grant(context.Background(), 600)
	if err != nil {
		b.Fatal(err)
	}
	for m := 0; m < n; m++ {
		lease := kept.ID
		if m >= n-lose {
			lease = lost.ID
		}
		md := map[string]string{"region": []string{"eu", "us"}[m%2]}
		if err := reg.RegisterMachine(context.Background(), registry.Machine{ID: fmt.Sprintf("m%03d", m), Metadata: md}, lease); err != nil {
			b.Fatal(err)
		}
	}
	return lost.ID
}
