package benchmarks

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/fleetctl"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// listCluster is a registry in a real etcd holding units, each scheduled
// on one of the machines and reported active there, served by fleetd's
// API server (with its Lister, as fleetd runs it) on loopback.
type listCluster struct {
	reg     *registry.Etcd
	srv     *httptest.Server
	units   int
	setupIn time.Duration
}

// newListCluster fills an etcd (fsync off: the figures are about reading)
// with units over machines, every unit with a body of its own.
func newListCluster(b *testing.B, units, machines int) *listCluster {
	b.Helper()
	start := time.Now()
	e := etcdtest.StartTuned(b, func(c *embed.Config) { c.UnsafeNoFsync = true; c.QuotaBackendBytes = 8 << 30 })
	cli := e.Client(b)
	reg := registry.New(cli, "")
	ctx := context.Background()
	lease, err := cli.Grant(ctx, 3600)
	if err != nil {
		b.Fatal(err)
	}
	parallel(b, machines, func(m int) error {
		return reg.RegisterMachine(ctx, registry.Machine{ID: machineID(m), PublicIP: fmt.Sprintf("10.%d.%d.%d", m/62500, m/250%250, m%250+1),
			Metadata: map[string]string{"region": []string{"eu", "us"}[m%2]}}, lease.ID)
	})
	var changes []registry.Change
	for i := range units {
		changes = append(changes, registry.Change{Placement: registry.Placement{Unit: unitName(i), Machine: machineID(i % machines)}})
	}
	parallel(b, units, func(i int) error {
		f, err := unit.ParseString(fmt.Sprintf("[Unit]\nDescription=Unit %d\n\n[Service]\nExecStart=/usr/bin/app --instance %d\n", i, i))
		if err != nil {
			return err
		}
		return reg.CreateUnit(ctx, unitName(i), f, unit.StateLaunched)
	})
	if _, err := reg.Commit(ctx, registry.Guard{}, changes); err != nil {
		b.Fatal(err)
	}
	parallel(b, units, func(i int) error {
		return reg.PublishState(ctx, registry.UnitState{Unit: unitName(i), Machine: machineID(i % machines), Hash: "h",
			LoadState: "loaded", ActiveState: "active", SubState: "running"}, lease.ID)
	})
	listing := reg.NewListing(0)
	b.Cleanup(listing.Close)
	srv := httptest.NewServer(api.NewServer(reg, api.Options{Lister: listing}))
	b.Cleanup(srv.Close)
	return &listCluster{reg: reg, srv: srv, units: units, setupIn: time.Since(start)}
}

func unitName(i int) string  { return fmt.Sprintf("app-%06d.service", i) }
func machineID(m int) string { return fmt.Sprintf("%032x", m*7919+1) }

// parallel runs f for 0..n-1 on 32 goroutines.
func parallel(b *testing.B, n int, f func(i int) error) {
	b.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	next := make(chan int)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// fleetctl runs one fleetctl command against the cluster's server and
// checks that it printed a line per unit and a header.
func (c *listCluster) fleetctl(b *testing.B, args ...string) {
	b.Helper()
	var out, errOut bytes.Buffer
	env := []string{"FLEETCTL_ENDPOINT=" + c.srv.URL, "HOME=" + b.TempDir()}
	if code := fleetctl.Main(args, nil, &out, &errOut, env); code != 0 {
		b.Fatalf("fleetctl %v: exit %d: %s", args, code, errOut.String())
	}
	if lines := bytes.Count(out.Bytes(), []byte("\n")); lines != c.units+1 {
		b.Fatalf("fleetctl %v printed %d lines, want %d", args, lines, c.units+1)
	}
}

// pageThrough GETs every page of path as fleet 1.0's fleetctl does (its
// own page size, or the server's when size is 0) and returns the pages.
func (c *listCluster) pageThrough(b *testing.B, path string, size int) int {
	b.Helper()
	pages, items := 0, 0
	for token := ""; ; pages++ {
		q := url.Values{"alt": {"json"}}
		if size > 0 {
			q.Set("pageSize", fmt.Sprint(size))
		}
		if token != "" {
			q.Set("nextPageToken", token)
		}
		resp, err := http.Get(c.srv.URL + api.BasePath + path + "?" + q.Encode())
		if err != nil {
			b.Fatal(err)
		}
		var page struct {
			Units         []json.RawMessage
			States        []json.RawMessage
			NextPageToken string
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
		items += len(page.Units) + len(page.States)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if items != c.units {
		b.Fatalf("%s: %d items, want %d", path, items, c.units)
	}
	return pages + 1
}

// benchmarkListing measures the listings of a cluster of units: the two
// fleetctl commands, the pages as fleet 1.0's fleetctl reads them, one
// page from the middle, and the first listing of a fleetd whose copy of
// the cluster is not loaded yet.
func benchmarkListing(b *testing.B, units, machines int) {
	c := newListCluster(b, units, machines)
	b.Logf("%d units on %d machines written in %v", units, machines, c.setupIn.Round(time.Millisecond))
	// The server's copy is loaded by its first listing (measured on its
	// own below as cold-first-page); the rest is a fleetd's steady state.
	start := time.Now()
	c.pageThrough(b, "/units", 1000)
	b.Logf("first listing, loading the server's copy: %v", time.Since(start).Round(time.Millisecond))
	b.Run("fleetctl-list-unit-files", func(b *testing.B) {
		for b.Loop() {
			c.fleetctl(b, "list-unit-files")
		}
	})
	b.Run("fleetctl-list-units", func(b *testing.B) {
		for b.Loop() {
			c.fleetctl(b, "list-units")
		}
	})
	for _, size := range []int{0, 1000} {
		b.Run(fmt.Sprintf("api-units-pagesize-%d", size), func(b *testing.B) {
			pages := 0
			for b.Loop() {
				pages = c.pageThrough(b, "/units", size)
			}
			b.ReportMetric(float64(pages), "pages")
		})
	}
	if units <= 10_000 {
		// What every page cost before the Lister: all the jobs, the
		// schedule and the states read for each page.
		b.Run("api-units-without-lister", func(b *testing.B) {
			slow := &listCluster{reg: c.reg, srv: httptest.NewServer(api.NewServer(c.reg, api.Options{})), units: units}
			defer slow.srv.Close()
			for b.Loop() {
				slow.pageThrough(b, "/units", 0)
			}
		})
	}
	b.Run("api-one-page-of-100", func(b *testing.B) {
		// 50 pages an op, from the middle of the listing: few ops
		// would measure the garbage collector of a large heap instead.
		const pages = 50
		after := url.QueryEscape(apiToken(unitName(units / 2)))
		for b.Loop() {
			for range pages {
				resp, err := http.Get(c.srv.URL + api.BasePath + "/units?nextPageToken=" + after)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages), "ns/page")
	})
	b.Run("cold-first-page", func(b *testing.B) {
		for b.Loop() {
			l := c.reg.NewListing(0)
			if _, _, err := l.Units(context.Background(), "", 100); err != nil {
				b.Fatal(err)
			}
			l.Close()
		}
	})
}

// apiToken is the page token of the page after name, as the server
// makes it (opaque to clients; the benchmark makes one to start
// mid-listing).
func apiToken(name string) string {
	return base64URL("units:" + name)
}

func BenchmarkList10kUnits(b *testing.B)  { benchmarkListing(b, 10_000, 1_000) }
func BenchmarkList100kUnits(b *testing.B) { benchmarkListing(b, 100_000, 10_000) }

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
