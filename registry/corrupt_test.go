package registry_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// logLines collects what a registry logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

// Write takes one record of a slog text handler.
func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(p))
	return len(p), nil
}

func (l *logLines) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			n++
		}
	}
	return n
}

// goodCluster writes one healthy unit, machine, metadata key, placement
// and state under /fleet/.
func goodCluster(t *testing.T, cli *clientv3.Client, r *registry.Etcd) {
	t.Helper()
	ctx := context.Background()
	if err := r.CreateUnit(ctx, "good.service", hello(t), unit.StateLaunched); err != nil {
		t.Fatal(err)
	}
	lease, err := cli.Grant(ctx, 60)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RegisterMachine(ctx, registry.Machine{ID: "m1", PublicIP: "10.0.0.1"}, lease.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.SetMetadata(ctx, "m1", "disk", "ssd"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(ctx, registry.Guard{}, []registry.Change{{Placement: registry.Placement{Unit: "good.service", Machine: "m1"}}}); err != nil {
		t.Fatal(err)
	}
	s := registry.UnitState{Unit: "good.service", Machine: "m1", Hash: "abc", LoadState: "loaded", ActiveState: "active", SubState: "running"}
	if err := r.PublishState(ctx, s, lease.ID); err != nil {
		t.Fatal(err)
	}
}

// garbage is a corrupt record of every key type.
var garbage = map[string]string{
	"/fleet/job/bad.service":                  "{not json",
	"/fleet/job/Bad Name":                     `{"hash":"00","desiredState":"launched"}`,
	"/fleet/unit/" + strings.Repeat("ab", 20): "\x00\x01garbage",
	"/fleet/schedule/m1/bad.service":          `{"port":"eighty"}`,
	"/fleet/schedule/m1":                      `{}`,
	"/fleet/state/bad.service/m1":             "[1,2,3]",
	"/fleet/machines/m2":                      `{"id":"m3"}`,
	"/fleet/machines/m4":                      "\xff",
	"/fleet/metadata/m1/region":               "\xff\xfe",
	"/fleet/metadata/m1/a/b":                  "x",
}

// Garbage written straight into etcd, in every key type, is skipped by
// every listing, logged once with its key and counted, and the healthy
// records read as before.
func TestListingsSkipCorruptRecords(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	var log logLines
	r := registry.New(cli, "/fleet", registry.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	ctx := context.Background()
	goodCluster(t, cli, r)
	for k, v := range garbage {
		put(t, cli, k, v)
	}
	for range 2 { // the second time logs and counts nothing new
		jobs, bad, err := r.ListJobs(ctx)
		if err != nil || len(jobs) != 1 || jobs[0].Name != "good.service" || len(bad) != 2 || bad[1].Name != "bad.service" {
			t.Fatalf("ListJobs = %v, %v, %v; want good.service and 2 corrupt", jobs, bad, err)
		}
		if files, err := r.Files(ctx); err != nil || len(files) != 1 {
			t.Fatalf("Files = %d bodies, %v; want 1", len(files), err)
		}
		if sched, err := r.Schedule(ctx); err != nil || len(sched) != 1 || sched[0].Unit != "good.service" {
			t.Fatalf("Schedule = %v, %v", sched, err)
		}
		if sched, _, err := r.MachineSchedule(ctx, "m1"); err != nil || len(sched) != 1 {
			t.Fatalf("MachineSchedule = %v, %v", sched, err)
		}
		if states, err := r.States(ctx); err != nil || len(states) != 1 {
			t.Fatalf("States = %v, %v", states, err)
		}
		ms, err := r.Machines(ctx)
		if err != nil || len(ms) != 1 || ms[0].ID != "m1" || len(ms[0].Metadata) != 1 || ms[0].Metadata["disk"] != "ssd" {
			t.Fatalf("Machines = %+v, %v; want m1 with disk=ssd alone", ms, err)
		}
	}
	if got := r.CorruptSeen(); got != int64(len(garbage)) {
		t.Errorf("CorruptSeen = %d, want %d", got, len(garbage))
	}
	for k := range garbage {
		want := "key=" + k + " "
		if strings.Contains(k, " ") {
			want = "key=" + strconv.Quote(k) + " "
		}
		if n := log.count(want); n != 1 {
			t.Errorf("%s logged %d times, want once", k, n)
		}
	}
	if n := log.count("level=WARN msg=\"skipping corrupt record\" component=registry key="); n != len(garbage) {
		t.Errorf("%d warnings from component=registry, want %d", n, len(garbage))
	}
}

func TestCorruptJobsByName(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx := context.Background()
	put(t, cli, "/fleet/job/bad.service", "{not json")
	if _, err := r.Job(ctx, "bad.service"); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("Job of a corrupt record: %v, want ErrCorrupt", err)
	}
	if err := r.SetDesired(ctx, "bad.service", unit.StateLaunched); !errors.Is(err, registry.ErrCorrupt) || !strings.Contains(err.Error(), "destroy") {
		t.Fatalf("SetDesired of a corrupt record: %v, want ErrCorrupt telling to destroy it", err)
	}
	if err := r.DestroyUnit(ctx, "bad.service"); err != nil {
		t.Fatalf("a corrupt unit cannot be destroyed: %v", err)
	}
	h := strings.Repeat("cd", 20)
	put(t, cli, "/fleet/unit/"+h, "{not json")
	hash, err := unit.ParseHash(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.File(ctx, hash); !errors.Is(err, registry.ErrCorrupt) {
		t.Fatalf("File of a corrupt body: %v, want ErrCorrupt", err)
	}
}

// The engine's copy of the cluster skips corrupt records, when loading
// and when following, and lists them; a record repaired leaves the list.
func TestClusterSkipsAndListsCorruptRecords(t *testing.T) {
	cli := etcdtest.Start(t).Client(t)
	r := registry.New(cli, "/fleet")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	goodCluster(t, cli, r)
	put(t, cli, "/fleet/job/bad.service", "{not json")
	c, err := r.LoadCluster(ctx)
	if err != nil {
		t.Fatalf("LoadCluster with a corrupt job: %v", err)
	}
	v := c.View()
	if len(v.Jobs) != 1 || len(v.Machines) != 1 || len(v.Schedule) != 1 || corruptKeys(v) != "/fleet/job/bad.service" {
		t.Fatalf("view = %+v", v)
	}
	follow := make(chan error, 1)
	go func() { follow <- r.FollowCluster(ctx, c) }()
	for k, val := range garbage {
		put(t, cli, k, val)
	}
	put(t, cli, "/fleet/job/good.service", "{overwritten")
	want := []string{"/fleet/job/Bad Name", "/fleet/job/bad.service", "/fleet/job/good.service", "/fleet/machines/m2",
		"/fleet/machines/m4", "/fleet/metadata/m1/a/b", "/fleet/metadata/m1/region", "/fleet/schedule/m1", "/fleet/schedule/m1/bad.service"}
	v = waitView(t, c, func(v registry.View) bool { return corruptKeys(v) == strings.Join(want, " ") })
	if len(v.Jobs) != 0 || len(v.Machines) != 1 || len(v.Schedule) != 1 || v.Machines[0].Metadata["disk"] != "ssd" {
		t.Fatalf("view while corrupt = %+v", v)
	}
	if err := r.SetMetadata(ctx, "m1", "region", "eu"); err != nil { // repairs one
		t.Fatal(err)
	}
	if _, err := cli.Delete(ctx, "/fleet/job/", clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	waitView(t, c, func(v registry.View) bool {
		return len(v.Corrupt) == len(want)-4 && v.Machines[0].Metadata["region"] == "eu"
	})
	cancel()
	if err := <-follow; err != nil {
		t.Fatalf("FollowCluster: %v", err)
	}
}

func corruptKeys(v registry.View) string {
	keys := make([]string, 0, len(v.Corrupt))
	for _, rec := range v.Corrupt {
		if !errors.Is(rec.Err, registry.ErrCorrupt) || rec.Rev == 0 {
			return fmt.Sprintf("bad record %+v", rec)
		}
		keys = append(keys, rec.Key)
	}
	if !slices.IsSorted(keys) {
		return "unsorted: " + strings.Join(keys, " ")
	}
	return strings.Join(keys, " ")
}

func waitView(t *testing.T, c *registry.Cluster, ok func(registry.View) bool) registry.View {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if v := c.View(); ok(v) {
			return v
		}
		select {
		case <-c.Changed():
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("view never came: %+v (corrupt: %s)", c.View(), corruptKeys(c.View()))
		}
	}
}
