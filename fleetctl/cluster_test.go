package fleetctl

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/fleetd"
)

// testVersion is the version the test fleetds report.
const testVersion = "1.0.0-test"

// machineSpec is one machine of a test cluster. IDs look like real
// 32-hex machine IDs so that list-units shows them cut to 8 characters.
type machineSpec struct {
	id, ip   string
	metadata map[string]string
}

// testCluster is fleetds in process over memsd systemds: the first
// embeds etcd (unless one is given), the others join it.
type testCluster struct {
	endpoint string // the API of the first fleetd: unix://...
	etcdURL  string
	prefix   string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// engineInterval is the test clusters' engine_reconcile_interval.
const engineInterval = 100 * time.Millisecond

// startCluster starts one fleetd per spec under key prefix; etcdURL ""
// makes the first embed etcd.
func startCluster(t *testing.T, prefix, etcdURL string, specs []machineSpec) *testCluster {
	t.Helper()
	tc := &testCluster{etcdURL: etcdURL, prefix: prefix}
	for i, m := range specs {
		c := fleetd.Defaults()
		c.MachineID, c.PublicIP, c.Metadata = m.id, m.ip, m.metadata
		c.EtcdKeyPrefix = prefix
		c.AgentTTL, c.EngineInterval, c.LeaderTTL = 10*time.Second, engineInterval, 2*time.Second
		// Over http:// too, for the other fleetds to forward status and
		// journal calls to.
		c.APIListen = []string{"unix://" + filepath.Join(t.TempDir(), "fleet.sock"), "http://127.0.0.1:0"}
		if tc.etcdURL == "" {
			c.EtcdDataDir, c.EtcdName = t.TempDir(), "m"+m.id[:8]
			c.EtcdPeerURL = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
			c.EtcdClientURL = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		} else {
			c.EtcdServers = []string{tc.etcdURL}
		}
		d := runDaemon(t, c)
		if i == 0 {
			tc.endpoint = d.Endpoints()[0]
			if tc.etcdURL == "" {
				tc.etcdURL = d.EtcdURL()
			}
		}
	}
	tc.waitMachines(t, len(specs))
	return tc
}

// sdSetup, when set, prepares each test fleetd's in-memory systemd.
var sdSetup func(*memsd.Systemd)

// runDaemon starts a fleetd, stopped when the test ends.
func runDaemon(t *testing.T, c fleetd.Config) *fleetd.Daemon {
	t.Helper()
	sd := memsd.New()
	if sdSetup != nil {
		sdSetup(sd)
	}
	in := &fakeInspector{machine: c.MachineID, sd: sd}
	d := fleetd.New(c, fleetd.Options{Systemd: sd, Inspector: in, Version: testVersion})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-d.Ready():
	case err := <-done:
		t.Fatalf("fleetd %s stopped: %v", c.MachineID, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("fleetd %s not ready after 30s", c.MachineID)
	}
	return d
}

func (tc *testCluster) client(t *testing.T) *api.Client {
	t.Helper()
	c, err := api.NewClient(tc.endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (tc *testCluster) waitMachines(t *testing.T, n int) {
	t.Helper()
	c := tc.client(t)
	eventually(t, fmt.Sprintf("%d machines", n), 20*time.Second, func() bool {
		ms, err := c.Machines(context.Background())
		return err == nil && len(ms) == n
	})
}

func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %v waiting for %s", d, what)
}

// settle waits until every machine reports every unit as its desired
// state asks: nothing for inactive or unplaceable units, one row at the
// unit's machine, and for a global unit one row on each machine the
// scheduler puts it on.
func (tc *testCluster) settle(t *testing.T) {
	t.Helper()
	g := &globals{endpoint: tc.endpoint, requestTimeout: 5}
	c, err := dialAPI(g, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := ""
	var quiet time.Time // since when a unit wanted active has had no machine
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var unplaced bool
		if last, unplaced = unsettled(context.Background(), c); last != "" {
			quiet = time.Time{}
			continue
		}
		// A unit that no machine can take stays without one; a unit just
		// started has none until the engine's next pass: wait out a few.
		switch {
		case !unplaced:
			return
		case quiet.IsZero():
			quiet = time.Now()
		case time.Since(quiet) > 5*engineInterval:
			return
		}
	}
	t.Fatalf("cluster did not settle in 20s: %s", last)
}

// unsettled says what is not settled yet, or "", and whether a unit
// wanted active has no machine (it may be waiting for the engine).
func unsettled(ctx context.Context, c *conn) (string, bool) {
	v, err := readView(ctx, c, nil)
	if err != nil {
		return err.Error(), false
	}
	reached, err := globalsReached(v)
	if err != nil {
		return err.Error(), false
	}
	unplaced := false
	rows := map[string][]api.UnitState{}
	for _, st := range v.states {
		rows[st.Name] = append(rows[st.Name], st)
	}
	for _, u := range v.units {
		r := rows[u.Name]
		delete(rows, u.Name)
		switch {
		case u.DesiredState == "inactive" || (!isGlobal(u) && u.MachineID == ""):
			if len(r) > 0 {
				return fmt.Sprintf("%s still reported by %d machines", u.Name, len(r)), false
			}
			unplaced = unplaced || u.DesiredState != "inactive"
		case isGlobal(u):
			if g := reached[u.Name]; len(r) != g.Eligible || g.Reached != g.Eligible {
				return fmt.Sprintf("global %s: %d rows, %+v", u.Name, len(r), *g), false
			}
		case len(r) != 1 || r[0].MachineID != u.MachineID || u.CurrentState != u.DesiredState:
			return fmt.Sprintf("%s: %s on %q, %d rows", u.Name, u.CurrentState, u.MachineID, len(r)), false
		}
	}
	for name := range rows {
		return name + " is reported but is not in the registry", false
	}
	return "", unplaced
}

// destroyAll removes every unit, waits for the cluster to settle, and
// returns how many there were.
func (tc *testCluster) destroyAll(t *testing.T) int {
	t.Helper()
	c := tc.client(t)
	us, err := c.Units(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if err := c.DestroyUnit(context.Background(), u.Name); err != nil {
			t.Fatal(err)
		}
	}
	tc.settle(t)
	return len(us)
}
