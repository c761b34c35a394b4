package fleetctl

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/unit"
)

// More units than fit a page (fleetd's token_limit is 100): list-unit-files
// and list-units through fleetd's API read every page of its watched copy,
// see units written just before, and print the same rows as the etcd
// driver, which pages over a copy of its own.
func TestListingsPageThroughManyUnits(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two fleetds and 250 units")
	}
	tc := startCluster(t, "/_coreos.com/fleet/", "", walkthroughMachines()[:2])
	c := tc.client(t)
	ctx := context.Background()
	const n = 250
	var want []string
	for i := range n {
		name := fmt.Sprintf("page-%03d.service", n-1-i) // written out of order
		u := &api.Unit{Name: name, DesiredState: "launched",
			Options: []unit.Option{{Section: "Service", Name: "ExecStart", Value: "/bin/sleep 1000"}}}
		if err := c.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}
	sort.Strings(want)

	// Right after the writes, every unit is listed, in name order.
	code, stdout, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, "list-unit-files", "--no-legend", "--fields=unit,dstate")
	if code != ExitOK {
		t.Fatalf("list-unit-files: exit %d, %s", code, stderr)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || f[1] != "launched" {
			t.Fatalf("row %q", line)
		}
		got = append(got, f[0])
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("list-unit-files listed %d units, want %d in name order:\n%s", len(got), n, stdout)
	}

	tc.settle(t)
	for _, cmd := range []string{"list-unit-files", "list-units"} {
		code, viaAPI, stderr := runArgs(t, nil, "--endpoint", tc.endpoint, cmd, "--full")
		if code != ExitOK {
			t.Fatalf("%s: exit %d, %s", cmd, code, stderr)
		}
		if rows := strings.Count(viaAPI, "\n"); rows != n+1 {
			t.Errorf("%s printed %d lines, want %d and a header", cmd, rows, n)
		}
		code, viaEtcd, stderr := runArgs(t, nil, "--driver", "etcd", "--endpoint", tc.etcdURL, cmd, "--full")
		if code != ExitOK {
			t.Fatalf("%s with the etcd driver: exit %d, %s", cmd, code, stderr)
		}
		if viaAPI != viaEtcd {
			t.Errorf("%s differs between the drivers:\nAPI:\n%s\netcd:\n%s", cmd, viaAPI, viaEtcd)
		}
	}
}
