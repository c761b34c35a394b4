package fleetd

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// machineInspector is a fake api.Inspector that names its machine.
type machineInspector struct{ machine string }

func (m machineInspector) Status(_ context.Context, name string) (string, error) {
	return fmt.Sprintf("● %s - read on %s\n", name, m.machine), nil
}

func (m machineInspector) Journal(ctx context.Context, name string, o api.JournalOptions, w io.Writer) error {
	for i := range o.Lines {
		if _, err := fmt.Fprintf(w, "%s %s[%d]: line\n", m.machine, name, i+1); err != nil {
			return err
		}
	}
	if !o.Follow {
		return nil
	}
	if _, err := fmt.Fprintf(w, "%s %s: following\n", m.machine, name); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

// remoteConfig is a test config that also serves the API over TCP.
func remoteConfig(t *testing.T, id string) Config {
	c := testConfig(t, id)
	c.APIListen = append(c.APIListen, "http://127.0.0.1:0")
	return c
}

func TestStatusAndJournalOfAUnitOnAnotherMachine(t *testing.T) {
	c1 := remoteConfig(t, "m1")
	first := launchWith(t, c1, machineInspector{"m1"})
	first.waitReady(t, c1)
	c2 := remoteConfig(t, "m2")
	c2.EtcdServers = []string{first.d.EtcdURL()}
	second := launchWith(t, c2, machineInspector{"m2"})
	second.waitReady(t, c2)
	cli := first.client(t) // over m1's unix socket
	ctx := context.Background()
	eventually(t, "two machines", 10*time.Second, func() bool {
		ms, err := cli.Machines(ctx)
		return err == nil && len(ms) == 2
	})
	opts := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}
	for _, name := range []string{"a.service", "b.service"} {
		if err := cli.CreateUnit(ctx, &api.Unit{Name: name, Options: opts, DesiredState: "launched"}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "one unit on each machine", 10*time.Second, func() bool {
		return len(first.sd.Active()) == 1 && len(second.sd.Active()) == 1
	})
	remote := second.sd.Active()[0]
	got, err := cli.Status(ctx, remote, "m2")
	if want := "● " + remote + " - read on m2\n"; err != nil || got != want {
		t.Fatalf("status of %s through m1: %q, %v; want %q", remote, got, err, want)
	}
	var b strings.Builder
	if err := cli.Journal(ctx, remote, "", api.JournalOptions{Lines: 2}, &b); err != nil || strings.Count(b.String(), "m2 "+remote) != 2 {
		t.Fatalf("journal of %s through m1: %q, %v", remote, b.String(), err)
	}
	local := first.sd.Active()[0]
	if got, err := cli.Status(ctx, local, ""); err != nil || !strings.HasSuffix(got, "read on m1\n") {
		t.Fatalf("status of %s on m1: %q, %v", local, got, err)
	}
	if _, err := cli.Status(ctx, local, "m2"); !api.IsNotFound(err) {
		t.Errorf("status of %s on the machine it is not on: %v", local, err)
	}
}

func TestMachinesWithoutHTTPCannotBeForwardedTo(t *testing.T) {
	cli := unitOnSecond(t, remoteConfig(t, "m1"), testConfig(t, "m2")) // m2: a unix socket only
	ctx := context.Background()
	_, err := cli.Status(ctx, "x.service", "")
	if !strings.Contains(fmt.Sprint(err), "503") || !strings.Contains(fmt.Sprint(err), "machine m2") {
		t.Errorf("status on a machine without an http API: %v", err)
	}
}

// addrListener is a listener that only has an address.
type addrListener struct {
	net.Listener
	addr net.Addr
}

func (l addrListener) Addr() net.Addr { return l.addr }

func TestAdvertisedURL(t *testing.T) {
	unix := addrListener{addr: &net.UnixAddr{Name: "/run/fleet.sock", Net: "unix"}}
	tcp := func(ip string, port int) net.Listener {
		return addrListener{addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: port}}
	}
	for _, tt := range []struct {
		ls   []net.Listener
		ip   string
		want string
	}{
		{[]net.Listener{unix}, "10.0.0.1", ""},
		{[]net.Listener{unix, tcp("127.0.0.1", 4001), tcp("127.0.0.1", 4002)}, "10.0.0.1", "http://127.0.0.1:4001"},
		{[]net.Listener{unix, tcp("127.0.0.1", 4001), tcp("10.0.0.2", 4002)}, "10.0.0.1", "http://10.0.0.2:4002"},
		{[]net.Listener{tcp("0.0.0.0", 49153)}, "10.0.0.1", "http://10.0.0.1:49153"},
		{[]net.Listener{tcp("::", 49153)}, "fd00::1", "http://[fd00::1]:49153"},
		{[]net.Listener{tcp("0.0.0.0", 49153)}, "", "http://127.0.0.1:49153"},
		{[]net.Listener{unix, httpsListener{tcp("10.0.0.2", 8443)}}, "10.0.0.1", "https://10.0.0.2:8443"},
	} {
		if got := advertisedURL(tt.ls, tt.ip); got != tt.want {
			t.Errorf("advertisedURL(%v, %q) = %q, want %q", tt.ls, tt.ip, got, tt.want)
		}
	}
}

// lineWriter signals each write on a channel.
type lineWriter chan string

func (l lineWriter) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

func TestStoppingEndsFollowedJournals(t *testing.T) {
	c := testConfig(t, "m1")
	td := launchWith(t, c, machineInspector{"m1"})
	td.waitReady(t, c)
	cli := td.client(t)
	ctx := context.Background()
	opts := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}
	eventually(t, "a.service submitted", 10*time.Second, func() bool {
		return cli.CreateUnit(ctx, &api.Unit{Name: "a.service", Options: opts, DesiredState: "launched"}) == nil
	})
	eventually(t, "a.service launched", 10*time.Second, func() bool { return len(td.sd.Active()) == 1 })
	lines := make(lineWriter, 10)
	done := make(chan error, 1)
	go func() { done <- cli.Journal(ctx, "a.service", "", api.JournalOptions{Follow: true}, lines) }()
	if got := <-lines; got != "m1 a.service: following\n" {
		t.Fatalf("followed journal: %q", got)
	}
	start := time.Now()
	td.cancel()
	if err := <-td.done; err != nil {
		t.Errorf("fleetd stopped with %v", err)
	}
	td.cancel = nil
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("fleetd took %v to stop with a followed journal open", took)
	}
	if err := <-done; !strings.Contains(fmt.Sprint(err), "stopping") {
		t.Errorf("the followed journal ended with %v, want a word that fleetd is stopping", err)
	}
}

// unitOnSecond starts fleetds of c1 and c2 (c2 joining c1's embedded
// etcd, with metadata role=x), runs x.service on the second and returns
// a client of the first.
func unitOnSecond(t *testing.T, c1, c2 Config) *api.Client {
	t.Helper()
	first := launchWith(t, c1, machineInspector{"m1"})
	first.waitReady(t, c1)
	c2.EtcdServers = []string{first.d.EtcdURL()}
	c2.Metadata = map[string]string{"role": "x"}
	second := launchWith(t, c2, machineInspector{"m2"})
	second.waitReady(t, c2)
	cli := first.client(t)
	ctx := context.Background()
	eventually(t, "two machines", 10*time.Second, func() bool {
		ms, err := cli.Machines(ctx)
		return err == nil && len(ms) == 2
	})
	opts := []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"},
		{Section: "X-Fleet", Name: "MachineMetadata", Value: "role=x"}}
	if err := cli.CreateUnit(ctx, &api.Unit{Name: "x.service", Options: opts, DesiredState: "launched"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "x.service on m2", 10*time.Second, func() bool { return len(second.sd.Active()) == 1 })
	return cli
}
