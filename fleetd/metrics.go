package fleetd

import (
	"fmt"
	"net/http"
)

const (
	corruptMetric = "fleetd_registry_corrupt_records_total"
	corruptHelp   = "Records in etcd this fleetd skipped because they do not decode (each key and revision once)."
)

// metrics answers /metrics in Prometheus' text format.
func (d *Daemon) metrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", name, help, name, name, v)
	}
	gauge("fleetd_agent_registered", "1 while this machine holds its lease.", boolf(d.runner.Registered()))
	leading, unscheduled := false, 0
	if d.engine != nil {
		leading = d.engine.Leading()
		if p := d.engine.LastPlan(); p != nil && leading {
			unscheduled = len(p.Unscheduled)
		}
	}
	gauge("fleetd_engine_leader", "1 while this machine's engine leads.", boolf(leading))
	gauge("fleetd_engine_unscheduled_units", "Active units the leader's last plan could not place.", float64(unscheduled))
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", corruptMetric, corruptHelp, corruptMetric, corruptMetric, d.reg.CorruptSeen())
	fmt.Fprintf(w, "# HELP fleetd_build_info Build information.\n# TYPE fleetd_build_info gauge\nfleetd_build_info{version=%q} 1\n", d.opts.Version)
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
