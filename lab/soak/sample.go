package soak

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/lab/cluster"
)

// Sample is what the soak measures at one moment.
type Sample struct {
	At         time.Duration // since the churn began
	DBSize     int64         // etcd's database file, the largest of the members
	DBInUse    int64         // the part of it in use, the largest of the members
	Keys       int64         // every key in etcd
	RSS        int64         // the watched fleetd's resident memory, bytes
	Goroutines int64         // the watched fleetd's goroutines
}

func (s Sample) String() string {
	return fmt.Sprintf("%8v  db %7.2f MiB (in use %6.2f MiB)  keys %5d  fleetd rss %6.1f MiB  goroutines %4d",
		s.At.Round(time.Second), mib(s.DBSize), mib(s.DBInUse), s.Keys, mib(s.RSS), s.Goroutines)
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// take samples etcd through cli and the fleetd of m.
func take(ctx context.Context, cli *clientv3.Client, endpoints []string, m *cluster.Machine) (Sample, error) {
	var s Sample
	for _, ep := range endpoints {
		st, err := cli.Status(ctx, ep)
		if err != nil {
			continue // a member that is down
		}
		s.DBSize, s.DBInUse = max(s.DBSize, st.DbSize), max(s.DBInUse, st.DbSizeInUse)
	}
	if s.DBSize == 0 {
		return s, fmt.Errorf("soak: no etcd member answered its status")
	}
	resp, err := cli.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithCountOnly())
	if err != nil {
		return s, fmt.Errorf("soak: count keys: %w", err)
	}
	s.Keys = resp.Count
	pid, err := fleetdPID(m)
	if err != nil {
		return s, err
	}
	if s.RSS, err = rss(pid); err != nil {
		return s, err
	}
	s.Goroutines, err = goroutines(ctx, m)
	return s, err
}

// fleetdPID finds the host PID of m's fleetd: a child of its systemd.
func fleetdPID(m *cluster.Machine) (int, error) {
	sd := m.PID()
	if sd == 0 {
		return 0, fmt.Errorf("soak: %s is down", m.Hostname)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", sd, sd))
	if err != nil {
		return 0, fmt.Errorf("soak: %s's processes: %w", m.Hostname, err)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && filepath.Base(exe) == "fleetd" {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("soak: no fleetd among the processes of %s's systemd", m.Hostname)
}

// rss reads VmRSS of pid from /proc.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("soak: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("soak: no VmRSS in /proc/%d/status", pid)
}

// goroutines reads go_goroutines from m's fleetd's /metrics.
func goroutines(ctx context.Context, m *cluster.Machine) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.Endpoint()+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("soak: %s's metrics: %w", m.Hostname, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("soak: %s's metrics: %w", m.Hostname, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("soak: no go_goroutines in %s's metrics", m.Hostname)
}

// keyGroups counts keys by their first path elements under fleet's
// prefix, to show what was left behind when the key count does not
// come back.
func keyGroups(ctx context.Context, cli *clientv3.Client) (map[string]int, error) {
	resp, err := cli.Get(ctx, "\x00", clientv3.WithFromKey(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, kv := range resp.Kvs {
		parts := strings.SplitN(string(kv.Key), "/", 5)
		out[strings.Join(parts[:min(len(parts), 4)], "/")]++
	}
	return out, nil
}
