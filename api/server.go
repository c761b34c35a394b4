package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fleetsim/fleet/registry"
	"github.com/fleetsim/fleet/unit"
)

// BasePath is where the API is served.
const BasePath = "/fleet/v1"

// DefaultMaxBody is the largest request body accepted when
// Options.MaxBody is not set: 1 MiB, the size limit of a unit file.
const DefaultMaxBody = 1 << 20

// UnitStore holds the units: their jobs (name, content hash, desired
// state) and their bodies, stored once per content hash.
type UnitStore interface {
	// ListJobs returns every unit's job that decodes, and the job
	// records that do not (shown as broken units).
	ListJobs(ctx context.Context) ([]registry.Job, []registry.CorruptRecord, error)
	// Job returns one unit's job, or an error wrapping registry.ErrNotFound
	// (no such unit) or registry.ErrCorrupt (a record that does not decode).
	Job(ctx context.Context, name string) (registry.Job, error)
	// File returns the unit body stored under h, or an error wrapping
	// registry.ErrNotFound or registry.ErrCorrupt.
	File(ctx context.Context, h unit.Hash) (*unit.File, error)
	// CreateUnit stores a new unit, or fails wrapping registry.ErrExists.
	CreateUnit(ctx context.Context, name string, f *unit.File, desired unit.State) error
	// SetDesired changes a unit's desired state (registry.ErrNotFound if
	// there is no such unit).
	SetDesired(ctx context.Context, name string, s unit.State) error
	// DestroyUnit removes a unit (registry.ErrNotFound if there is none).
	DestroyUnit(ctx context.Context, name string) error
}

// MachineStore lists the machines and sets their run-time metadata.
type MachineStore interface {
	// Machines returns the registered machines, run-time metadata merged.
	Machines(ctx context.Context) ([]registry.Machine, error)
	// SetMetadata sets one metadata key of machine id.
	SetMetadata(ctx context.Context, id, key, value string) error
	// DeleteMetadata removes one metadata key set at run time.
	DeleteMetadata(ctx context.Context, id, key string) error
}

// StateReader reads where units are scheduled and what each machine's
// systemd reports for them.
type StateReader interface {
	// Schedule returns every placement of a unit on a machine.
	Schedule(ctx context.Context) ([]registry.Placement, error)
	// States returns what every machine's systemd reports of every unit.
	States(ctx context.Context) ([]registry.UnitState, error)
}

// Backend is everything the API needs of the cluster's state;
// *registry.Etcd implements it. Errors that mean "no such unit" or "unit
// exists" must wrap registry.ErrNotFound and registry.ErrExists.
type Backend interface {
	UnitStore
	MachineStore
	StateReader
}

// Lister serves the unit and state listings from a copy of the cluster
// kept current, a page at the cost of its length; *registry.Listing
// implements it. Keys and errors are those of registry.Listing.
type Lister interface {
	Units(ctx context.Context, after string, n int) ([]registry.ListedUnit, bool, error)
	Unit(ctx context.Context, name string) (registry.ListedUnit, error)
	States(ctx context.Context, after string, n int, name, machine string) ([]registry.ListedState, bool, error)
}

// Options tune a server. The zero value is usable.
type Options struct {
	// Version is sent in every answer's header as "Server: fleetd/<Version>".
	Version string
	// Ready reports whether the daemon has registered its machine; until
	// it does, every request is answered 503. Nil means always ready.
	Ready func() bool
	// MaxBody bounds request bodies (DefaultMaxBody if zero or less); a
	// larger body is answered 413.
	MaxBody int64
	// PageSize is the length of a listing's page when the request does
	// not give ?pageSize (DefaultPageSize if zero or less, at most
	// MaxPageSize).
	PageSize int
	// Lister, when set, serves GET /units, /units/<name>, /state and
	// /state/<name>, so that a page costs the same whatever the size of
	// the cluster; nil reads every job, placement and state of the
	// Backend for each page.
	Lister Lister
	// OnError, when set, is told of every failure the client cannot be
	// blamed for: 5xx answers and answers that could not be written.
	OnError func(r *http.Request, err error)
	// Observe, when set, is told of every answer, for metrics: the
	// route's pattern below BasePath ("/units/{name}"; "/healthz", or
	// "other" for a path the API does not have), the method, the status
	// code and how long the answer took.
	Observe func(route, method string, code int, took time.Duration)

	// The rest serve the status and journal calls, which go beyond
	// fleet's v1 (see remote.go).

	// MachineID is the machine this server runs on: it answers the
	// status and journal calls about it through Inspector, and forwards
	// those about other machines to their fleetd. "" (a server that is
	// not a machine's, such as fleetctl's etcd driver) forwards them all.
	MachineID string
	// Inspector reads this machine's systemd and journal; nil answers
	// 501 to the calls about this machine.
	Inspector Inspector
	// Forwarder sends the calls forwarded to other machines' fleetds
	// (nil: a client that uses no proxy and no timeout, since a followed
	// journal streams for as long as the client reads it).
	Forwarder *http.Client
	// Stopping, when closed, ends the followed journals being streamed,
	// so that the HTTP server's graceful shutdown need not wait for them.
	Stopping <-chan struct{}
	// Health, when set, is asked by GET /healthz once the daemon is
	// ready: an error fails the check (503), its message naming the
	// problem (etcd out of space).
	Health func(ctx context.Context) error
	// MaxFollowers bounds the journals followed through this server at
	// once (DefaultMaxFollowers if zero or less); beyond, 429.
	MaxFollowers int
	// StreamIdle is how long one write of a followed journal may wait
	// for the client to read (DefaultStreamIdle if zero or less). A
	// followed journal is exempt from the server's read and write
	// timeouts (Limits); this bounds it instead.
	StreamIdle time.Duration
}

// server answers the API's requests over a Backend.
type server struct {
	b         Backend
	opts      Options
	followers chan struct{} // a slot per journal followed
}

// handlerFunc is a handler that returns its failure instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// method is one HTTP method of a route, as served and as described in
// the discovery document.
type method struct {
	verb string
	id   string // discovery method ID, e.g. "fleet.Units.List"
	desc string
	h    handlerFunc
}

// route is one path of the API and its methods.
type route struct {
	path    string // below BasePath, in http.ServeMux pattern syntax
	methods []method
}

// NewServer returns the API over b: the routes of fleet's API v1 under
// BasePath, and GET /healthz ("ok" once ready) at the root; any other
// path is a JSON 404. Every answer carries the Server header. It does no
// I/O.
func NewServer(b Backend, opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	switch {
	case opts.PageSize <= 0:
		opts.PageSize = DefaultPageSize
	case opts.PageSize > MaxPageSize:
		opts.PageSize = MaxPageSize
	}
	opts.MaxFollowers = orDefault(opts.MaxFollowers, DefaultMaxFollowers)
	opts.StreamIdle = orDefault(opts.StreamIdle, DefaultStreamIdle)
	if opts.Forwarder == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		opts.Forwarder = &http.Client{Transport: tr}
	}
	s := &server{b: b, opts: opts, followers: make(chan struct{}, opts.MaxFollowers)}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(BasePath+rt.path, s.observed(rt.path, s.dispatch(rt.methods)))
	}
	mux.Handle("/healthz", s.observed("/healthz", s.dispatch([]method{{verb: http.MethodGet, h: s.healthz}})))
	mux.Handle("/", s.observed("other", s.serve(func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, "no resource at %s", r.URL.Path)
	})))
	return s.withServerHeader(mux)
}

// routes is the API: each path and its methods.
func (s *server) routes() []route {
	return []route{
		{"/discovery", []method{{http.MethodGet, "fleet.Discovery.Get", "This document.", s.discovery}}},
		{"/machines", []method{
			{http.MethodGet, "fleet.Machines.List", "List the machines of the cluster.", s.listMachines},
			{http.MethodPatch, "fleet.Machines.Patch", "Add, replace or remove machine metadata (JSON Patch on /<id>/metadata/<key>).", s.patchMachines},
		}},
		{"/units", []method{{http.MethodGet, "fleet.Units.List", "List the units, sorted by name.", s.listUnits}}},
		{"/units/{name}", []method{
			{http.MethodGet, "fleet.Units.Get", "Get one unit.", s.getUnit},
			{http.MethodPut, "fleet.Units.Set", "Create a unit or change its desired state.", s.putUnit},
			{http.MethodDelete, "fleet.Units.Delete", "Destroy a unit.", s.deleteUnit},
		}},
		{"/units/{name}/status", []method{{http.MethodGet, "fleet.Units.Status",
			"Extension, not in fleet's v1: what systemctl status prints of the unit on ?machineID, as text.", s.unitStatus}}},
		{"/units/{name}/journal", []method{{http.MethodGet, "fleet.Units.Journal",
			"Extension, not in fleet's v1: the unit's journal on ?machineID as text (?lines, ?follow, ?output).", s.unitJournal}}},
		{"/state", []method{{http.MethodGet, "fleet.UnitState.List", "List unit states, filtered by machineID and unitName.", s.listStates}}},
		{"/state/{name}", []method{{http.MethodGet, "fleet.UnitState.Get", "List the states of one unit (possibly none).", s.unitStates}}},
	}
}

// dispatch picks the method's handler, answering 405 with an Allow
// header for a method the path does not have. HEAD is served as GET.
func (s *server) dispatch(methods []method) http.Handler {
	allow := make([]string, 0, len(methods)+1)
	byVerb := make(map[string]handlerFunc, len(methods)+1)
	for _, m := range methods {
		allow = append(allow, m.verb)
		byVerb[m.verb] = m.h
		if m.verb == http.MethodGet {
			allow = append(allow, http.MethodHead)
			byVerb[http.MethodHead] = m.h
		}
	}
	allowed := strings.Join(allow, ", ")
	return s.serve(func(w http.ResponseWriter, r *http.Request) error {
		h, ok := byVerb[r.Method]
		if !ok {
			w.Header().Set("Allow", allowed)
			return errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allowed)
		}
		if err := s.checkReady(w); err != nil {
			return err
		}
		if alt := r.URL.Query().Get("alt"); alt != "" && alt != "json" {
			return errorf(http.StatusBadRequest, "alt=%s: only alt=json is supported", alt)
		}
		return h(w, r)
	})
}

// checkReady refuses requests until the daemon is ready (fleetd: until
// its machine first registers; a lease renewed late later does not take
// the API away).
func (s *server) checkReady(w http.ResponseWriter) error {
	if s.opts.Ready == nil || s.opts.Ready() {
		return nil
	}
	w.Header().Set("Retry-After", "1")
	return errorf(http.StatusServiceUnavailable, "fleetd is starting: its machine is not registered yet")
}

// serve runs h and writes the error it returns, unless h had already
// begun its answer, in which case the error can only be reported.
func (s *server) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := &trackingWriter{ResponseWriter: w}
		err := h(tw, r)
		if err == nil {
			return
		}
		if tw.started {
			s.report(r, fmt.Errorf("api: %s %s: answer cut short: %w", r.Method, r.URL.Path, err))
			return
		}
		e := asError(err)
		if e.Code >= 500 {
			s.report(r, err)
		}
		if werr := writeJSON(w, e.Code, ErrorResponse{Error: e}); werr != nil {
			s.report(r, werr)
		}
	})
}

func (s *server) report(r *http.Request, err error) {
	if s.opts.OnError != nil {
		s.opts.OnError(r, err)
	}
}

func (s *server) withServerHeader(next http.Handler) http.Handler {
	name := "fleetd"
	if s.opts.Version != "" {
		name += "/" + s.opts.Version
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", name)
		next.ServeHTTP(w, r)
	})
}

// healthz answers "ok" once the daemon is ready and healthy.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Health != nil {
		if err := s.opts.Health(r.Context()); err != nil {
			return errorf(http.StatusServiceUnavailable, "unhealthy: %w", err)
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte("ok\n"))
	return err
}

// trackingWriter records whether the answer has begun.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (w *trackingWriter) WriteHeader(code int) {
	w.started = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(p []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer's Flush.
func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeJSON answers code with v as its JSON body.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("api: encode answer: %w", err)
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("api: write answer: %w", err)
	}
	return nil
}

// writeEmpty answers code with no body.
func writeEmpty(w http.ResponseWriter, code int) error {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(code)
	return nil
}
