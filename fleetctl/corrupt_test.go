package fleetctl

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// A job written as garbage straight into etcd no longer fails the
// listings: they show it among the others, and destroy removes it.
func TestACorruptUnitIsListedAndDestroyed(t *testing.T) {
	tc := startCluster(t, "/_coreos.com/fleet/", "", walkthroughMachines()[:1])
	file := filepath.Join(t.TempDir(), "hello.service")
	if err := os.WriteFile(file, []byte("[Service]\nExecStart=/bin/sleep 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, "start", file); code != ExitOK {
		t.Fatalf("start: exit %d, %s", code, stderr)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{tc.etcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(context.Background(), "/_coreos.com/fleet/job/bad.service", "{garbage"); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"list-unit-files", "list-units"} {
		code, stdout, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, cmd)
		if code != ExitOK || !strings.Contains(stdout, "hello.service") {
			t.Fatalf("%s with a corrupt unit: exit %d\n%s%s", cmd, code, stdout, stderr)
		}
		if cmd == "list-unit-files" && !strings.Contains(stdout, "bad.service") {
			t.Errorf("list-unit-files does not show the corrupt unit:\n%s", stdout)
		}
	}
	if code, _, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, "destroy", "bad.service"); code != ExitOK {
		t.Fatalf("destroy of a corrupt unit: exit %d, %s", code, stderr)
	}
	if resp, err := cli.Get(context.Background(), "/_coreos.com/fleet/job/bad.service"); err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("the corrupt job after destroy: %v, %v", resp.Kvs, err)
	}
}
