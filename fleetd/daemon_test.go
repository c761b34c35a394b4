package fleetd

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/agent/memsd"
	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type testDaemon struct {
	d      *Daemon
	sd     *memsd.Systemd
	cancel context.CancelFunc
	done   chan error
}

func testConfig(t *testing.T, id string) Config {
	c := Defaults()
	c.MachineID, c.PublicIP = id, "127.0.0.1"
	c.AgentTTL, c.EngineInterval, c.LeaderTTL = 2*time.Second, 200*time.Millisecond, time.Second
	c.APIListen = []string{"unix://" + filepath.Join(t.TempDir(), "fleet.sock")}
	c.EtcdDataDir = t.TempDir()
	c.EtcdName = id
	c.EtcdPeerURL = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	c.EtcdClientURL = fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	return c
}

func startDaemon(t *testing.T, c Config) *testDaemon {
	t.Helper()
	td := launch(t, c)
	td.waitReady(t, c)
	return td
}

// launch starts a daemon without waiting for it.
func launch(t *testing.T, c Config) *testDaemon { return launchWith(t, c, nil) }

// launchWith starts a daemon that reads its systemd and journal with in.
func launchWith(t *testing.T, c Config, in api.Inspector) *testDaemon {
	return launchOpts(t, c, memsd.New(), Options{Inspector: in, Version: "test"})
}

// launchOpts starts a daemon over sd with opts.
func launchOpts(t *testing.T, c Config, sd *memsd.Systemd, opts Options) *testDaemon {
	td := &testDaemon{sd: sd, done: make(chan error, 1)}
	opts.Systemd = sd
	td.d = New(c, opts)
	ctx, cancel := context.WithCancel(context.Background())
	td.cancel = cancel
	go func() { td.done <- td.d.Run(ctx) }()
	t.Cleanup(td.stop)
	return td
}

func (td *testDaemon) waitReady(t *testing.T, c Config) {
	t.Helper()
	select {
	case <-td.d.Ready():
	case err := <-td.done:
		td.done <- err // for stop, which the test's cleanup runs
		t.Fatalf("fleetd %s stopped: %v", c.MachineID, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("fleetd %s not ready after 30s", c.MachineID)
	}
}

func (td *testDaemon) stop() {
	if td.cancel != nil {
		td.cancel()
		<-td.done
		td.cancel = nil
	}
}

func (td *testDaemon) client(t *testing.T) *api.Client {
	t.Helper()
	c, err := api.NewClient(td.d.Endpoints()[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
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

func TestTwoDaemonsRunAndFailOver(t *testing.T) {
	first := startDaemon(t, testConfig(t, "m1"))
	c2 := testConfig(t, "m2")
	c2.EtcdServers = []string{first.d.EtcdURL()}
	second := startDaemon(t, c2)
	cli := first.client(t)
	ctx := context.Background()
	eventually(t, "two machines", 10*time.Second, func() bool {
		ms, err := cli.Machines(ctx)
		return err == nil && len(ms) == 2
	})
	for _, name := range []string{"a.service", "b.service"} {
		opts := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}
		if err := cli.CreateUnit(ctx, &api.Unit{Name: name, Options: opts, DesiredState: "launched"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "one unit on each machine", 10*time.Second, func() bool {
		return len(first.sd.Active()) == 1 && len(second.sd.Active()) == 1
	})
	moved := second.sd.Active()[0]
	u, err := cli.Unit(ctx, moved)
	if err != nil || u.CurrentState != "launched" || u.MachineID != "m2" {
		t.Fatalf("unit %s = %+v, %v", moved, u, err)
	}
	second.stop() // its lease expires: its unit must come to m1
	eventually(t, moved+" relaunched on m1", 10*time.Second, func() bool { return len(first.sd.Active()) == 2 })
}

func TestEmbeddedThreeMemberCluster(t *testing.T) {
	cs := []Config{testConfig(t, "m1"), testConfig(t, "m2"), testConfig(t, "m3")}
	initial := ""
	for i, c := range cs {
		if i > 0 {
			initial += ","
		}
		initial += c.EtcdName + "=" + c.EtcdPeerURL
	}
	ds := make([]*testDaemon, len(cs))
	for i := range cs {
		cs[i].EtcdInitialCluster = initial
		ds[i] = launch(t, cs[i]) // members wait for each other: start all first
	}
	for i := range cs {
		ds[i].waitReady(t, cs[i])
	}
	cli := ds[2].client(t)
	eventually(t, "three machines over one etcd cluster", 20*time.Second, func() bool {
		ms, err := cli.Machines(context.Background())
		return err == nil && len(ms) == 3
	})
}

func TestSocketMetricsAndHealth(t *testing.T) {
	c := testConfig(t, "m1")
	c.APIListen = append(c.APIListen, "http://127.0.0.1:0")
	d := startDaemon(t, c)
	eps := d.d.Endpoints()
	sock := strings.TrimPrefix(eps[0], "unix://")
	st, err := os.Stat(sock)
	if err != nil || st.Mode().Perm() != 0o660 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("API socket %s: %v, mode %v, want a socket with mode 0660", sock, err, st.Mode())
	}
	base := eps[1]
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("TCP endpoint %q is not on loopback", base)
	}
	eventually(t, "healthz ok", 10*time.Second, func() bool {
		body, code := get(t, base+"/healthz")
		return code == 200 && strings.TrimSpace(body) == "ok"
	})
	eventually(t, "the engine leading, in /metrics", 10*time.Second, func() bool {
		body, code := get(t, base+"/metrics")
		return code == 200 && strings.Contains(body, "fleetd_agent_registered 1") && strings.Contains(body, "fleetd_engine_leader 1")
	})
}

func get(t *testing.T, url string) (string, int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return err.Error(), 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.StatusCode
}
