// Package report renders a simulation run as one self-contained HTML
// page: the run's parameters and headline figures, inline SVG charts of
// units running and machines alive over time with the injected faults
// marked, and a histogram of reschedule latency. The page needs no
// external asset and no JavaScript, so it can be mailed, attached to an
// issue or opened from a CI artifact as it is.
package report

import (
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/fleetsim/fleet/sim"
)

// Field is one name and value of the page's header.
type Field struct {
	Name  string
	Value string
}

// Stat is one headline figure. Bad colours it as a failure.
type Stat struct {
	Label string
	Value string
	Note  string
	Bad   bool // a failure: shown in red
	Mono  bool // an identifier, such as a hash: monospace, two columns wide
}

// Page is what the report shows.
type Page struct {
	Title    string
	Subtitle string   // what ran: "generated workload", a scenario's name
	OK       bool     // the run passed: no violation, no failed assert
	Replay   string   // the command that replays the run
	Params   []Field  // the run's parameters
	Stats    []Stat   // the headline figures
	Failures []string // failed asserts and violations, as printed by the CLI
	Result   sim.Result
}

// maxListed bounds the rows of the violation, unscheduled and fault tables.
const maxListed = 25

// view is the template's data, the charts already drawn.
type view struct {
	Page
	Units, Machines, Latency template.HTML
	Unscheduled              []Field
	MoreUnscheduled          int
	Faults                   []faultGroup
	MoreFaults               int
	MoreFailures             int
	Duration                 func(time.Duration) string
}

// Write renders p to out.
func Write(out io.Writer, p Page) error {
	r := p.Result
	v := view{Page: p, Duration: Duration}
	// The SVG is built here from numbers and escaped labels only.
	v.Units = template.HTML(SeriesChart("Units running", "units", r.Series,
		func(s sim.Sample) float64 { return float64(s.UnitsRunning) }, r.Faults, r.SimTime))
	v.Machines = template.HTML(SeriesChart("Machines alive", "machines", r.Series,
		func(s sim.Sample) float64 { return float64(s.MachinesAlive) }, r.Faults, r.SimTime))
	v.Latency = template.HTML(Histogram("Reschedule latency", r.Reschedule))
	for i, u := range r.Unscheduled {
		if i == maxListed {
			v.MoreUnscheduled = len(r.Unscheduled) - maxListed
			break
		}
		v.Unscheduled = append(v.Unscheduled, Field{Name: u.Unit, Value: u.Reason.String() + detail(u.Detail)})
	}
	v.Faults = groupFaults(r.Faults)
	if len(v.Faults) > maxListed {
		v.MoreFaults = len(v.Faults) - maxListed
		v.Faults = v.Faults[:maxListed]
	}
	if len(v.Failures) > maxListed {
		v.MoreFailures = len(v.Failures) - maxListed
		v.Failures = v.Failures[:maxListed]
	}
	if err := page.Execute(out, v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func detail(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}
