package scheduler

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetsim/fleet/unit"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output in testdata/*.txt")

// TestScenarios runs the scenario files in testdata/. Each file is a list
// of directives, in the datadriven shape:
//
//	command arg arg
//	input lines
//	----
//	expected output (ends at a blank line)
//
// Commands:
//
//	machine ID [dead] [ip=IP] [k=v ...]   add a machine (input: none)
//	unit NAME [inactive|loaded|launched]  add a unit; input: [X-Fleet] lines
//	place UNIT MACHINE [port=N]           add a current placement
//	kill ID / revive ID / remove ID       a machine dies, comes back, leaves
//	metadata ID k=v ...                   replace a machine's metadata
//	state UNIT inactive|loaded|launched   change a unit's desired state
//	destroy UNIT                          remove a unit
//	plan                                  print the plan, do not apply it
//	apply                                 print the plan and apply it
//	placements                            print the current placements
//
// Unknown commands or arguments fail the test, so typos are caught. Run
// with -rewrite to regenerate expectations (and read the diff).
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runScenarioFile(t, f) })
	}
}

type directive struct {
	comments []string // comment lines before the directive, kept by -rewrite
	line     int
	cmd      []string
	input    []string
	expected string
}

func parseScenario(t *testing.T, text string) []directive {
	var (
		ds       []directive
		comments []string
	)
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "#") {
			comments = append(comments, l)
			continue
		}
		d := directive{comments: comments, line: i + 1, cmd: strings.Fields(l)}
		comments = nil
		for i++; i < len(lines) && lines[i] != "----"; i++ {
			d.input = append(d.input, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("line %d: %q has no ---- separator", d.line, l)
		}
		var out []string
		for i++; i < len(lines) && lines[i] != ""; i++ {
			out = append(out, lines[i])
		}
		d.expected = strings.Join(out, "\n")
		ds = append(ds, d)
	}
	return ds
}

func runScenarioFile(t *testing.T, path string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{snap: &Snapshot{}}
	var b strings.Builder
	ds := parseScenario(t, string(raw))
	for _, d := range ds {
		got, err := w.run(d)
		if err != nil {
			t.Fatalf("%s:%d: %s: %v", path, d.line, d.cmd[0], err)
		}
		got = strings.TrimRight(got, "\n")
		if *rewrite {
			writeDirective(&b, d, got)
			continue
		}
		if got != d.expected {
			t.Errorf("%s:%d: %s\n--- expected\n%s\n--- got\n%s", path, d.line, strings.Join(d.cmd, " "), d.expected, got)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func writeDirective(b *strings.Builder, d directive, got string) {
	for _, c := range d.comments {
		b.WriteString(c + "\n")
	}
	b.WriteString(strings.Join(d.cmd, " ") + "\n")
	for _, in := range d.input {
		b.WriteString(in + "\n")
	}
	b.WriteString("----\n")
	if got != "" {
		b.WriteString(got + "\n")
	}
	b.WriteString("\n")
}

// world is the cluster a scenario builds.
type world struct{ snap *Snapshot }

func (w *world) run(d directive) (string, error) {
	args := d.cmd[1:]
	switch d.cmd[0] {
	case "machine":
		return "", w.addMachine(args)
	case "unit":
		return w.addUnit(args, d.input)
	case "place":
		return "", w.place(args)
	case "kill", "revive", "remove":
		return "", w.machineEvent(d.cmd[0], args)
	case "metadata":
		return "", w.setMetadata(args)
	case "state", "destroy":
		return "", w.unitEvent(d.cmd[0], args)
	case "plan", "apply":
		return w.plan(d.cmd[0] == "apply", args)
	case "placements":
		return w.placements(), nil
	}
	return "", fmt.Errorf("unknown command %q", d.cmd[0])
}

func (w *world) addMachine(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("machine needs an ID")
	}
	m := Machine{ID: args[0], Alive: true, Metadata: map[string]string{}}
	for _, a := range args[1:] {
		k, v, ok := strings.Cut(a, "=")
		switch {
		case a == "dead":
			m.Alive = false
		case k == "ip" && ok:
			m.IP = v
		case ok:
			m.Metadata[k] = v
		default:
			return fmt.Errorf("machine: unknown argument %q", a)
		}
	}
	w.snap.Machines = append(w.snap.Machines, m)
	return nil
}

func (w *world) addUnit(args, input []string) (string, error) {
	if len(args) == 0 || len(args) > 2 {
		return "", fmt.Errorf("unit NAME [state]")
	}
	state := unit.StateLaunched
	if len(args) == 2 {
		s, err := unit.ParseState(args[1])
		if err != nil {
			return "", err
		}
		state = s
	}
	var opts []unit.Option
	for _, l := range input {
		k, v, ok := strings.Cut(strings.TrimSpace(l), "=")
		if !ok {
			return "", fmt.Errorf("unit input %q: want Key=Value", l)
		}
		opts = append(opts, unit.Option{Section: unit.FleetSection, Name: k, Value: v})
	}
	req, warnings, err := unit.ParseRequirements(args[0], opts)
	if err != nil {
		return "error: " + err.Error(), nil
	}
	w.snap.Units = append(w.snap.Units, Unit{Name: args[0], Desired: state, Req: req})
	return strings.Join(warnings, "\n"), nil
}

func (w *world) place(args []string) error {
	if len(args) < 2 || len(args) > 3 {
		return fmt.Errorf("place UNIT MACHINE [port=N]")
	}
	pl := Placement{Unit: args[0], Machine: args[1]}
	if len(args) == 3 {
		n, err := strconv.ParseUint(strings.TrimPrefix(args[2], "port="), 10, 16)
		if err != nil || !strings.HasPrefix(args[2], "port=") {
			return fmt.Errorf("place: bad port %q", args[2])
		}
		pl.Port = uint16(n)
	}
	w.snap.Placements = append(w.snap.Placements, pl)
	return nil
}

func (w *world) machine(id string) (*Machine, int, error) {
	for i := range w.snap.Machines {
		if w.snap.Machines[i].ID == id {
			return &w.snap.Machines[i], i, nil
		}
	}
	return nil, 0, fmt.Errorf("no machine %q", id)
}

func (w *world) machineEvent(cmd string, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s ID", cmd)
	}
	m, i, err := w.machine(args[0])
	if err != nil {
		return err
	}
	switch cmd {
	case "kill":
		m.Alive = false
	case "revive":
		m.Alive = true
	case "remove":
		w.snap.Machines = append(w.snap.Machines[:i], w.snap.Machines[i+1:]...)
	}
	return nil
}

func (w *world) setMetadata(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("metadata ID k=v ...")
	}
	m, _, err := w.machine(args[0])
	if err != nil {
		return err
	}
	m.Metadata = map[string]string{}
	for _, a := range args[1:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("metadata: %q is not k=v", a)
		}
		m.Metadata[k] = v
	}
	return nil
}

func (w *world) unitEvent(cmd string, args []string) error {
	if len(args) < 1 {
		return fmt.Errorf("%s UNIT", cmd)
	}
	for i := range w.snap.Units {
		if w.snap.Units[i].Name != args[0] {
			continue
		}
		if cmd == "destroy" {
			w.snap.Units = append(w.snap.Units[:i], w.snap.Units[i+1:]...)
			return nil
		}
		if len(args) != 2 {
			return fmt.Errorf("state UNIT STATE")
		}
		s, err := unit.ParseState(args[1])
		w.snap.Units[i].Desired = s
		return err
	}
	return fmt.Errorf("no unit %q", args[0])
}

func (w *world) plan(apply bool, args []string) (string, error) {
	if len(args) != 0 {
		return "", fmt.Errorf("plan takes no arguments")
	}
	plan, err := New().Plan(w.snap)
	if err != nil {
		return "error: " + err.Error(), nil
	}
	if apply {
		w.snap.Placements = Apply(w.snap.Placements, plan)
	}
	return formatPlan(plan), nil
}

func formatPlan(plan *Plan) string {
	var b strings.Builder
	for _, a := range plan.Actions {
		switch a.Kind {
		case Schedule:
			fmt.Fprintf(&b, "schedule %s -> %s", a.Unit, a.To)
		case Unschedule:
			fmt.Fprintf(&b, "unschedule %s <- %s", a.Unit, a.From)
		case Move:
			fmt.Fprintf(&b, "move %s %s -> %s", a.Unit, a.From, a.To)
		}
		if a.Port != 0 {
			fmt.Fprintf(&b, " port=%d", a.Port)
		}
		fmt.Fprintf(&b, " (%s: %s)\n", a.Reason, a.Detail)
	}
	for _, u := range plan.Unscheduled {
		fmt.Fprintf(&b, "unscheduled %s (%s: %s)\n", u.Unit, u.Reason, u.Detail)
	}
	if b.Len() == 0 {
		return "no change"
	}
	return b.String()
}

func (w *world) placements() string {
	ps := append([]Placement(nil), w.snap.Placements...)
	sort.Slice(ps, func(i, j int) bool { return placementLess(ps[i], ps[j]) })
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s %s", p.Unit, p.Machine)
		if p.Port != 0 {
			fmt.Fprintf(&b, " port=%d", p.Port)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
