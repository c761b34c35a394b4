package fleetctl

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fleetsim/fleet/api"
	"github.com/fleetsim/fleet/scheduler"
)

// planCmd is `fleetctl plan UNIT...`: a dry run of start.
type planCmd struct {
	list    listFlags
	replace bool
}

func planFields() []string { return []string{"machine", "verdict", "detail"} }

func newPlanCmd() *command {
	c := &planCmd{}
	return &command{
		name:    "plan",
		summary: "Show where units would run if started, and why not elsewhere",
		usage:   "UNIT...",
		desc: `A dry run of start: ask the scheduler, over the cluster as it is now, where
each unit would run if it were started, and for every machine that could
not take it, why (the first [X-Fleet] check that fails there). Nothing is
submitted or changed. A UNIT may be in the cluster, a local file, or an
instance of a template.

	fleetctl plan web@4.service`,
		minArgs: 1,
		maxArgs: -1,
		flags: func(fs *pflag.FlagSet) {
			c.list.bind(fs, planFields(), planFields(), "Do not ellipsize machine IDs")
			fs.BoolVar(&c.replace, "replace", false, "Plan with local unit files that differ from the units in the cluster.")
		},
		run: c.run,
	}
}

// planJSON is one unit of plan -o json.
type planJSON struct {
	Unit        string           `json:"unit"`
	Global      bool             `json:"global"`
	Machines    []string         `json:"machines"`
	Unscheduled *unscheduledJSON `json:"unscheduled,omitempty"`
	Verdicts    []verdictJSON    `json:"verdicts"`
}

// unscheduledJSON says why a unit has no machine.
type unscheduledJSON struct {
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// verdictJSON is one machine's answer for a unit.
type verdictJSON struct {
	Machine  string `json:"machine"`
	Placed   bool   `json:"placed"`
	Eligible bool   `json:"eligible"`
	Reason   string `json:"reason,omitempty"`
	Detail   string `json:"detail"`
}

func (c *planCmd) run(ctx context.Context, s *session, args []string) error {
	fields, err := c.list.columns("plan", planFields())
	if err != nil {
		return err
	}
	ua, err := s.unitArgs(args)
	if err != nil {
		return err
	}
	cl, err := s.cluster(ctx)
	if err != nil {
		return err
	}
	v, err := readView(ctx, cl, nil)
	if err != nil {
		return err
	}
	subs, err := s.plan(v.units, ua, submitMode{verb: "start", replace: c.replace})
	if err != nil {
		return err
	}
	ex, err := c.explain(v, subs)
	if err != nil {
		return err
	}
	if c.list.output == outputJSON {
		return writeJSON(s.out, planRows(ex))
	}
	for i, e := range ex {
		if i > 0 {
			fmt.Fprintln(s.out)
		}
		if err := c.write(s, v.machines, e, fields); err != nil {
			return err
		}
	}
	return nil
}

// explain asks the scheduler about the submissions, each as if started.
func (c *planCmd) explain(v *view, subs []submission) ([]scheduler.Explanation, error) {
	launch := map[string]bool{}
	var names []string
	var extra []api.Unit
	for _, sub := range subs {
		launch[sub.unit.Name] = true
		names = append(names, sub.unit.Name)
		extra = append(extra, sub.unit)
	}
	ex, err := explain(v.snapshot(extra, launch), names)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return ex, nil
}

// write prints one unit's plan: a line saying where it goes or why
// nowhere, then a table of the machines' verdicts.
func (c *planCmd) write(s *session, ix machineIndex, e scheduler.Explanation, fields []string) error {
	switch {
	case e.Unscheduled != nil:
		fmt.Fprintf(s.out, "Unit %s cannot be scheduled: %s\n", e.Unit, e.Unscheduled.Detail)
	case len(e.Machines) == 0:
		fmt.Fprintf(s.out, "Unit %s would run on no machine\n", e.Unit)
	default:
		where := make([]string, len(e.Machines))
		for i, m := range e.Machines {
			where[i] = ix.legend(m, c.list.full)
		}
		fmt.Fprintf(s.out, "Unit %s would run on %s\n", e.Unit, strings.Join(where, ", "))
	}
	t := table{fields: fields}
	for _, vd := range e.Verdicts {
		detail := vd.Detail
		if !c.list.full {
			detail = ix.shorten(detail)
		}
		t.add(map[string]string{"machine": ix.legend(vd.Machine, c.list.full), "verdict": verdictWord(vd), "detail": detail})
	}
	return t.write(s.out, c.list.noLegend)
}

// verdictWord is "placed", "eligible", or the reason a machine fails.
func verdictWord(v scheduler.Verdict) string {
	switch {
	case v.Placed:
		return "placed"
	case v.Eligible:
		return "eligible"
	}
	return v.Reason.String()
}

func planRows(ex []scheduler.Explanation) []planJSON {
	out := make([]planJSON, 0, len(ex))
	for _, e := range ex {
		p := planJSON{Unit: e.Unit, Global: e.Global, Machines: e.Machines, Verdicts: []verdictJSON{}}
		if e.Unscheduled != nil {
			p.Unscheduled = &unscheduledJSON{Reason: e.Unscheduled.Reason.String(), Detail: e.Unscheduled.Detail}
		}
		if p.Machines == nil {
			p.Machines = []string{}
		}
		for _, v := range e.Verdicts {
			vj := verdictJSON{Machine: v.Machine, Placed: v.Placed, Eligible: v.Eligible, Detail: v.Detail}
			if !v.Eligible {
				vj.Reason = v.Reason.String()
			}
			p.Verdicts = append(p.Verdicts, vj)
		}
		out = append(out, p)
	}
	return out
}
