package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/registry/etcdtest"
	"github.com/fleetsim/fleet/unit"
)

// The registry satisfies the API's backend.
var _ api.Backend = (*registry.Etcd)(nil)

// etcd is the one embedded etcd of this test binary; every test works
// under a prefix of its own.
var (
	etcd   *clientv3.Client
	prefix atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "api-etcd-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tb := &processTB{}
	defer tb.cleanup()
	etcd = etcdtest.StartIn(tb, dir).Client(tb)
	return m.Run()
}

// processTB lets TestMain use etcdtest, which wants a testing.TB, for the
// life of the process. Only the methods etcdtest calls are implemented;
// the embedded nil interface makes any other call panic loudly.
type processTB struct {
	testing.TB
	cleanups []func()
}

func (p *processTB) Helper()                   {}
func (p *processTB) Cleanup(f func())          { p.cleanups = append(p.cleanups, f) }
func (p *processTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (p *processTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func (p *processTB) cleanup() {
	for i := len(p.cleanups) - 1; i >= 0; i-- {
		p.cleanups[i]()
	}
}

// fixture is an API server over the registry, under a fresh prefix.
type fixture struct {
	t      *testing.T
	prefix string
	reg    *registry.Etcd
	srv    *httptest.Server
	ctx    context.Context
}

// newFixture starts a fixture. Its listings are served from a
// registry.Listing, as fleetd's are, unless opts gives a Lister.
func newFixture(t *testing.T, opts api.Options) *fixture {
	t.Helper()
	p := fmt.Sprintf("/api-test/%d/", prefix.Add(1))
	f := &fixture{t: t, prefix: p, reg: registry.New(etcd, p), ctx: context.Background()}
	if opts.Lister == nil {
		l := f.reg.NewListing(0)
		t.Cleanup(l.Close)
		opts.Lister = l
	}
	f.srv = httptest.NewServer(api.NewServer(f.reg, opts))
	t.Cleanup(f.srv.Close)
	return f
}

// backendServer is a second server over f's registry that reads every
// listing from the Backend whole, as a server without a Lister does over
// a Backend that is no MachinePager.
func (f *fixture) backendServer() *httptest.Server {
	srv := httptest.NewServer(api.NewServer(struct{ api.Backend }{f.reg}, api.Options{}))
	f.t.Cleanup(srv.Close)
	return srv
}

// answer is a response with its body read.
type answer struct {
	*http.Response
	body []byte
}

// do sends a request to the fixture's server; ct "" sends no Content-Type.
func (f *fixture) do(method, path, ct, body string) answer {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return answer{resp, b}
}

func (f *fixture) get(path string) answer { return f.do(http.MethodGet, path, "", "") }

func (f *fixture) put(name, body string) answer {
	return f.do(http.MethodPut, "/fleet/v1/units/"+name, "application/json", body)
}

// wantStatus fails unless a has status code.
func wantStatus(t *testing.T, a answer, code int) {
	t.Helper()
	if a.StatusCode != code {
		t.Fatalf("%s %s: status %d, want %d; body %s", a.Request.Method, a.Request.URL, a.StatusCode, code, a.body)
	}
}

// wantError fails unless a is an error answer of code whose message
// contains each of words.
func wantError(t *testing.T, a answer, code int, words ...string) {
	t.Helper()
	wantStatus(t, a, code)
	if ct := a.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q", ct)
	}
	var er struct {
		Error *api.Error `json:"error"`
	}
	if err := json.Unmarshal(a.body, &er); err != nil || er.Error == nil {
		t.Fatalf("error body %s: %v", a.body, err)
	}
	if er.Error.Code != code {
		t.Errorf("error code %d in the body, status %d", er.Error.Code, code)
	}
	for _, w := range words {
		if !strings.Contains(er.Error.Message, w) {
			t.Errorf("error message %q does not say %q", er.Error.Message, w)
		}
	}
}

// decode reads a's JSON body into v.
func decode(t *testing.T, a answer, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// snapshot returns every key under the fixture's prefix.
func (f *fixture) snapshot() map[string]string {
	f.t.Helper()
	resp, err := etcd.Get(f.ctx, f.prefix, clientv3.WithPrefix())
	if err != nil {
		f.t.Fatal(err)
	}
	out := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

// unchanged fails if the registry differs from before.
func (f *fixture) unchanged(t *testing.T, before map[string]string) {
	t.Helper()
	after := f.snapshot()
	if len(after) != len(before) {
		t.Fatalf("the registry changed: %d keys, was %d", len(after), len(before))
	}
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("the registry changed: %s = %q, was %q", k, after[k], v)
		}
	}
}

// submit stores a unit straight into the registry.
func (f *fixture) submit(name, body string, desired unit.State) *unit.File {
	f.t.Helper()
	uf, err := unit.ParseString(body)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.reg.CreateUnit(f.ctx, name, uf, desired); err != nil {
		f.t.Fatal(err)
	}
	return uf
}

// lease returns a lease that outlives the test.
func (f *fixture) lease() clientv3.LeaseID {
	f.t.Helper()
	l, err := etcd.Grant(f.ctx, 300)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _, _ = etcd.Revoke(context.Background(), l.ID) })
	return l.ID
}

// addMachine registers a machine.
func (f *fixture) addMachine(id, ip string, md map[string]string) {
	f.t.Helper()
	if err := f.reg.RegisterMachine(f.ctx, registry.Machine{ID: id, PublicIP: ip, Metadata: md}, f.lease()); err != nil {
		f.t.Fatal(err)
	}
}

// schedule places unit on machine.
func (f *fixture) schedule(unitName, machine string) {
	f.t.Helper()
	c := registry.Change{Placement: registry.Placement{Unit: unitName, Machine: machine}}
	if _, err := f.reg.Commit(f.ctx, registry.Guard{}, []registry.Change{c}); err != nil {
		f.t.Fatal(err)
	}
}

// report publishes what machine's systemd says of unit: load, active, sub.
func (f *fixture) report(unitName, machine, load, active, sub string) {
	f.t.Helper()
	s := registry.UnitState{Unit: unitName, Machine: machine, Hash: "h-" + unitName, LoadState: load, ActiveState: active, SubState: sub}
	if err := f.reg.PublishState(f.ctx, s, f.lease()); err != nil {
		f.t.Fatal(err)
	}
}

const helloBody = "[Unit]\nDescription=Hello\n\n[Service]\nExecStart=/bin/sh -c 'while true; do echo Hello World; sleep 1; done'\n"

// optionsJSON is the JSON of a unit file's options.
func optionsJSON(t *testing.T, body string) string {
	t.Helper()
	uf, err := unit.ParseString(body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(uf.Options)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
