package fleetd

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fleetsim/fleet/agent"
	"github.com/fleetsim/fleet/engine/leader"
	"github.com/fleetsim/fleet/scheduler"
)

// metrics are one fleetd's own metrics, in a registry of their own (two
// daemons in one process, as in tests, count apart). /metrics serves them
// with Prometheus' default registry, which holds the Go and process
// collectors and the embedded etcd's metrics. It implements
// engine.Observer and runner.Observer.
type metrics struct {
	reg *prometheus.Registry

	reconcile   prometheus.Histogram
	actions     *prometheus.CounterVec
	unscheduled prometheus.Gauge
	commits     *prometheus.CounterVec
	leaderChg   prometheus.Counter

	jobs      *prometheus.CounterVec
	jobTime   *prometheus.HistogramVec
	units     *prometheus.GaugeVec
	mu        sync.Mutex         // guards states
	states    map[string]float64 // the units by state last set
	pubFailed prometheus.Counter

	requests *prometheus.CounterVec
	reqTime  *prometheus.HistogramVec
}

// daemonGauges are read from the daemon at each scrape.
type daemonGauges struct {
	version    string
	registered func() bool
	leading    func() bool
	corrupt    func() int64
}

// newMetrics registers fleetd's metrics. It does no I/O.
func newMetrics(g daemonGauges) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := factory{m.reg}
	m.reconcile = f.histogram("fleetd_engine_reconcile_duration_seconds",
		"Time of one pass of the leader's reconcile loop: views planned, bodies read, plans committed.", prometheus.DefBuckets)
	m.actions = f.counters("fleetd_engine_plan_actions_total", "Actions in the leader's plans, by kind.", "kind")
	m.unscheduled = f.gauge("fleetd_engine_unscheduled_units", "Active units the leader's last plan could not place (0 when not leading).")
	m.commits = f.counters("fleetd_engine_commits_total", "Commits of the leader's plans, by result: applied, stale, not-leader, failed.", "result")
	m.leaderChg = f.counter("fleetd_engine_leader_changes_total", "Times this engine won or lost the leadership.")
	m.jobs = f.counters("fleetd_agent_jobs_total", "systemd jobs of this machine, by kind (start, stop) and result (done, failed, timeout, canceled, dependency, skipped, error: not queued).", "kind", "result")
	m.jobTime = f.histograms("fleetd_agent_job_duration_seconds", "Time from queueing a systemd job to its result, by kind.",
		[]float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}, "kind")
	m.units = f.gauges("fleetd_agent_units", "This machine's units, by systemd active state.", "state")
	m.pubFailed = f.counter("fleetd_agent_publish_failures_total", "Unit states this machine could not publish or remove in etcd (tried again).")
	m.requests = f.counters("fleetd_api_requests_total", "API requests, by route, method and status code.", "route", "method", "code")
	m.reqTime = f.histograms("fleetd_api_request_duration_seconds", "Time to answer an API request, by route and method.", prometheus.DefBuckets, "route", "method")
	for _, o := range []leader.Outcome{leader.Applied, leader.Stale, leader.NotLeader, leader.Failed} {
		m.commits.WithLabelValues(o.String())
	}
	for _, k := range []scheduler.ActionKind{scheduler.Schedule, scheduler.Unschedule, scheduler.Move} {
		m.actions.WithLabelValues(k.String())
	}
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fleetd_agent_registered", Help: "1 while this machine holds its lease."},
			func() float64 { return boolf(g.registered()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fleetd_engine_leader", Help: "1 while this machine's engine leads."},
			func() float64 { return boolf(g.leading()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "fleetd_registry_corrupt_records_total",
			Help: "Records in etcd this fleetd skipped because they do not decode (each key and revision once)."},
			func() float64 { return float64(g.corrupt()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fleetd_build_info", Help: "Build information.",
			ConstLabels: prometheus.Labels{"version": g.version}}, func() float64 { return 1 }),
	)
	return m
}

// handler serves fleetd's metrics with those of the default registry
// (Go, process, embedded etcd). A collector that fails is logged and
// the rest served.
func (m *metrics) handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{m.reg, prometheus.DefaultGatherer}, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      promLog{log.With("component", "metrics")},
	})
}

// promLog logs promhttp's errors through slog.
type promLog struct{ log *slog.Logger }

// Println logs v as an error.
func (l promLog) Println(v ...any) { l.log.Error(fmt.Sprint(v...)) }

// Reconciled observes one pass of the leader's loop.
func (m *metrics) Reconciled(took time.Duration) { m.reconcile.Observe(took.Seconds()) }

// Planned counts p's actions by kind and sets the unscheduled units.
func (m *metrics) Planned(p *scheduler.Plan) {
	for _, a := range p.Actions {
		m.actions.WithLabelValues(a.Kind.String()).Inc()
	}
	m.unscheduled.Set(float64(len(p.Unscheduled)))
}

// Committed counts a commit by its result.
func (m *metrics) Committed(o leader.Outcome) { m.commits.WithLabelValues(o.String()).Inc() }

// Leading counts a change of leadership; a deposed engine plans nothing.
func (m *metrics) Leading(leading bool) {
	m.leaderChg.Inc()
	if !leading {
		m.unscheduled.Set(0)
	}
}

// JobDone counts a job by kind and result, and observes how long
// systemd took.
func (m *metrics) JobDone(kind agent.TaskKind, result string, took time.Duration) {
	m.jobs.WithLabelValues(kind.String(), jobResult(result)).Inc()
	if took > 0 {
		m.jobTime.WithLabelValues(kind.String()).Observe(took.Seconds())
	}
}

// jobResult bounds a job's result to systemd's words; anything else is
// the error that kept the job from being queued.
func jobResult(r string) string {
	switch r {
	case "done", "failed", "timeout", "canceled", "dependency", "skipped":
		return r
	}
	return "error"
}

// Units sets the units by active state; a state no unit is in any more
// goes, without a moment where a scrape would see none.
func (m *metrics) Units(units []agent.CurrentUnit) {
	count := map[string]float64{}
	for _, u := range units {
		count[u.ActiveState]++
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for state := range m.states {
		if _, ok := count[state]; !ok {
			m.units.DeleteLabelValues(state)
		}
	}
	for state, n := range count {
		m.units.WithLabelValues(state).Set(n)
	}
	m.states = count
}

// PublishFailed counts a state not published.
func (m *metrics) PublishFailed() { m.pubFailed.Inc() }

// Request counts an API answer and observes its time.
func (m *metrics) Request(route, method string, code int, took time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost:
	default:
		method = "other"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.reqTime.WithLabelValues(route, method).Observe(took.Seconds())
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
