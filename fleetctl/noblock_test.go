package fleetctl

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeLog is a proxy in front of a fleetd API that notes every request
// that is not a read: method, path and the desired state it asks for.
type writeLog struct {
	mu     sync.Mutex
	writes []string
}

func (l *writeLog) serve(t *testing.T, endpoint string) *httptest.Server {
	sock, ok := strings.CutPrefix(endpoint, "unix://")
	if !ok {
		t.Fatalf("the test cluster's endpoint %q is not a socket", endpoint)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "fleetd"})
	proxy.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var u struct {
				DesiredState string `json:"desiredState"`
			}
			_ = json.Unmarshal(body, &u) // a body that is not JSON notes no state
			l.mu.Lock()
			l.writes = append(l.writes, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+u.DesiredState))
			l.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (l *writeLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.writes)
}

// start --no-block creates each new unit in its desired state at once:
// one write a unit, where waiting for the unit to be listed first takes a
// create and then a change. On a cluster whose every write is slow (etcd
// on emulated disks), that halves a large submission.
func TestStartNoBlockWritesEachNewUnitOnce(t *testing.T) {
	tc := startCluster(t, "/_coreos.com/fleet/", "", walkthroughMachines()[:1])
	var log writeLog
	srv := log.serve(t, tc.endpoint)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "web@.service"), []byte("[Service]\nExecStart=/bin/sleep 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runArgs(t, nil, "--endpoint", srv.URL, "start", "--no-block", filepath.Join(dir, "web@{1..3}.service")); code != ExitOK {
		t.Fatalf("start --no-block: exit %d, %s", code, stderr)
	}
	want := []string{"PUT /fleet/v1/units/web@1.service launched", "PUT /fleet/v1/units/web@2.service launched",
		"PUT /fleet/v1/units/web@3.service launched"}
	if got := log.list(); !slices.Equal(got, want) {
		t.Fatalf("writes of start --no-block:\n got %q\nwant %q", got, want)
	}
	eventually(t, "the three instances active", 20*time.Second, func() bool {
		_, out, _ := runArgs(t, nil, "--endpoint", tc.endpoint, "list-units", "--no-legend")
		return strings.Count(out, "active") == 3 && !strings.Contains(out, "inactive")
	})
	// Started again, they are left as they are: nothing is written.
	if code, _, stderr := runArgs(t, nil, "--endpoint", srv.URL, "start", "--no-block", filepath.Join(dir, "web@{1..3}.service")); code != ExitOK {
		t.Fatalf("start --no-block again: exit %d, %s", code, stderr)
	}
	if got := log.list(); len(got) != len(want) {
		t.Fatalf("starting started units wrote %q", got[len(want):])
	}
}
