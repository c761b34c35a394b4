package sim

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
	"github.com/fleetsim/fleet/unit"
)

// maxMachines bounds the cluster line, so that a typo cannot ask for a
// world that does not fit in memory.
const maxMachines = 100000

// ParseScenario reads a scenario file (grammar: see Scenario). name
// prefixes every error, which reads "name:line: problem" and wraps
// ErrScenario.
func ParseScenario(name string, r io.Reader) (*Scenario, error) {
	p := &parser{
		s:        &Scenario{Name: name, Config: DefaultConfig()},
		machines: map[string]int{},
		units:    map[string]int{},
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		p.line++
		words, err := splitWords(sc.Text())
		if err != nil {
			return nil, p.fail(err)
		}
		if len(words) == 0 {
			continue
		}
		if err := p.directive(words); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		p.line++ // the line it could not read
		return nil, p.errorf("reading: %w", err)
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.s, nil
}

// parser holds what ParseScenario has read so far.
type parser struct {
	s        *Scenario
	line     int
	machines map[string]int // machine ID -> line that defined or joined it
	units    map[string]int // unit name -> line that defined it

	sawCluster, sawRun bool
	firstAt            int // line of the first at, 0 if none
	lastAt             time.Duration
	lastAtLine         int
}

func (p *parser) fail(err error) error { return p.s.errAt(p.line, err) }

func (p *parser) errorf(format string, args ...any) error {
	return p.fail(fmt.Errorf(format, args...))
}

func (p *parser) directive(words []string) error {
	cmd, args := words[0], words[1:]
	switch {
	case cmd != "cluster" && !p.sawCluster && isDirective(cmd):
		return p.errorf("%s before the cluster line", cmd)
	case p.sawRun && cmd != "assert" && isDirective(cmd):
		return p.errorf("%s after run until: only assert lines may follow it", cmd)
	}
	switch cmd {
	case "cluster":
		return p.cluster(args)
	case "machine":
		return p.machine(args)
	case "unit":
		return p.unit(args)
	case "at":
		return p.at(args)
	case "run":
		return p.run(args)
	case "assert":
		return p.assert(args)
	}
	return p.errorf("unknown directive %q (want cluster, machine, unit, at, run or assert)", cmd)
}

func isDirective(cmd string) bool {
	switch cmd {
	case "cluster", "machine", "unit", "at", "run", "assert":
		return true
	}
	return false
}

func (p *parser) cluster(args []string) error {
	if p.sawCluster {
		return p.errorf("a second cluster line (the first is on line %d)", p.s.clusterLine)
	}
	p.sawCluster, p.s.clusterLine = true, p.line
	n, seen := -1, map[string]bool{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return p.errorf("cluster: %q is not key=value", a)
		}
		if seen[k] {
			return p.errorf("cluster: %s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "machines":
			n, err = strconv.Atoi(v)
			if err == nil && (n < 0 || n > maxMachines) {
				err = fmt.Errorf("%d is not between 0 and %d", n, maxMachines)
			}
		case "seed":
			p.s.Config.Seed, err = strconv.ParseUint(v, 10, 64)
		case "metadata":
			p.s.clusterMeta, err = parseClusterMeta(v)
		default:
			ck := findConfigKey(k)
			if ck == nil {
				return p.errorf("cluster: unknown key %q", k)
			}
			err = ck.set(&p.s.Config, v)
		}
		if err != nil {
			return p.errorf("cluster: %s=%s: %w", k, v, err)
		}
	}
	if n < 0 {
		return p.errorf("cluster: machines= is missing")
	}
	if err := p.s.Config.Validate(); err != nil {
		return p.errorf("cluster: %w", err)
	}
	p.s.clusterN = n
	for i := 1; i <= n; i++ {
		meta := map[string]string{}
		for _, mk := range p.s.clusterMeta {
			meta[mk.key] = mk.values[(i-1)%len(mk.values)]
		}
		p.addMachine(fmt.Sprintf("m%d", i), meta)
	}
	return nil
}

func (p *parser) addMachine(id string, meta map[string]string) {
	p.machines[id] = p.line
	p.s.machines = append(p.s.machines, scMachine{id: id, meta: meta, line: p.line})
}

func (p *parser) machine(args []string) error {
	if len(args) == 0 {
		return p.errorf("machine: want machine ID [k=v ...]")
	}
	ids, err := expandBraces(args[0])
	if err != nil {
		return p.errorf("machine: %w", err)
	}
	meta, err := parseMetaWords(args[1:])
	if err != nil {
		return p.errorf("machine %s: %w", args[0], err)
	}
	for _, id := range ids {
		if err := checkMachineID(id); err != nil {
			return p.errorf("machine: %w", err)
		}
		if l, dup := p.machines[id]; dup {
			return p.errorf("machine %s is already defined on line %d", id, l)
		}
		p.addMachine(id, copyMeta(meta))
	}
	return nil
}

func (p *parser) unit(args []string) error {
	if len(args) == 0 {
		return p.errorf("unit: want unit NAME [state] [Key=Value ...]")
	}
	names, err := expandBraces(args[0])
	if err != nil {
		return p.errorf("unit: %w", err)
	}
	rest, state := args[1:], unit.StateLaunched
	if len(rest) > 0 && !strings.Contains(rest[0], "=") {
		if state, err = unit.ParseState(rest[0]); err != nil {
			return p.errorf("unit %s: %q is neither a state (inactive, loaded, launched) nor Key=Value", args[0], rest[0])
		}
		rest = rest[1:]
	}
	var (
		opts []unit.Option
		beh  Behaviour
	)
	for _, w := range rest {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return p.errorf("unit %s: %q is not Key=Value", args[0], w)
		}
		if own, err := beh.set(k, v); own {
			if err != nil {
				return p.errorf("unit %s: %w", args[0], err)
			}
			continue
		}
		opts = append(opts, unit.Option{Section: unit.FleetSection, Name: k, Value: v})
	}
	for _, name := range names {
		if l, dup := p.units[name]; dup {
			return p.errorf("unit %s is already defined on line %d", name, l)
		}
		if err := checkUnitOptions(name, opts); err != nil {
			return p.fail(err)
		}
		if isTemplate(name) && state != unit.StateInactive {
			return p.errorf("unit %s: a template unit is never loaded or launched (submit it inactive; its instances run)", name)
		}
		p.units[name] = p.line
		p.s.units = append(p.s.units, scUnit{name: name, state: state, opts: opts, beh: beh, line: p.line})
	}
	return nil
}

// checkUnitOptions reads the [X-Fleet] options as the world will, and
// turns an unknown key (a warning for fleet) into an error.
func checkUnitOptions(name string, opts []unit.Option) error {
	_, warnings, err := unit.ParseRequirements(name, opts)
	if err != nil {
		return fmt.Errorf("unit %s: %w", name, err)
	}
	if len(warnings) == 0 {
		return nil
	}
	for _, o := range opts {
		if _, w, _ := unit.ParseRequirements(name, []unit.Option{o}); len(w) > 0 {
			return fmt.Errorf("unit %s: unknown [X-Fleet] key %q", name, o.Name)
		}
	}
	return fmt.Errorf("unit %s: %s", name, warnings[0])
}

func (p *parser) at(args []string) error {
	if len(args) < 2 {
		return p.errorf("at: want at TIME OPERATION")
	}
	t, err := parseDuration(args[0])
	if err != nil {
		return p.errorf("at: %w", err)
	}
	if t <= 0 {
		return p.errorf("at %s: operations come after time 0, when the machines boot", args[0])
	}
	if t < p.lastAt {
		return p.errorf("at %s comes before the at on line %d (%s): write at lines in time order", shortdur.Format(t), p.lastAtLine, shortdur.Format(p.lastAt))
	}
	spec := findOpSpec(args[1])
	if spec == nil {
		return p.errorf("at: unknown operation %q", args[1])
	}
	ops, err := p.operation(spec, args[2:])
	if err != nil {
		return p.errorf("at %s %s: %w", shortdur.Format(t), spec.verb, err)
	}
	for _, op := range ops {
		p.s.ops = append(p.s.ops, scOp{at: t, verb: spec.verb, op: op, line: p.line})
	}
	if p.firstAt == 0 {
		p.firstAt = p.line
	}
	p.lastAt, p.lastAtLine = t, p.line
	return nil
}

// operation reads an operation's target and arguments: one Op per
// target the braces expand to.
func (p *parser) operation(spec *opSpec, args []string) ([]Op, error) {
	targets := []string{""}
	if spec.target != targetNone {
		if len(args) == 0 {
			return nil, fmt.Errorf("which %s?", spec.target)
		}
		var err error
		if targets, err = expandBraces(args[0]); err != nil {
			return nil, err
		}
		args = args[1:]
	}
	proto := Op{Kind: spec.kind, IsFault: spec.fault, State: spec.state}
	if err := spec.parse(&proto, args); err != nil {
		return nil, err
	}
	var ops []Op
	for _, tgt := range targets {
		op := proto
		op.Metadata = copyMetaOrNil(proto.Metadata)
		switch spec.target {
		case targetMachine:
			if _, ok := p.machines[tgt]; !ok {
				return nil, fmt.Errorf("no machine %q (define it, or join it on an earlier line)", tgt)
			}
			op.Machine = tgt
		case targetNewMachine:
			if err := checkMachineID(tgt); err != nil {
				return nil, err
			}
			if l, ok := p.machines[tgt]; ok {
				return nil, fmt.Errorf("machine %s already exists (line %d)", tgt, l)
			}
			p.machines[tgt] = p.line
			op.Machine = tgt
		case targetUnit:
			if _, ok := p.units[tgt]; !ok {
				return nil, fmt.Errorf("no unit %q (define it on an earlier line)", tgt)
			}
			if isTemplate(tgt) && spec.state != unit.StateInactive {
				return nil, fmt.Errorf("%s is a template unit: it is never loaded or launched", tgt)
			}
			op.Unit = tgt
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func (p *parser) run(args []string) error {
	if len(args) != 2 || args[0] != "until" {
		return p.errorf("run: want run until TIME")
	}
	t, err := parseDuration(args[1])
	if err != nil {
		return p.errorf("run until: %w", err)
	}
	if t <= 0 {
		return p.errorf("run until %s: want a time after 0", args[1])
	}
	if t < p.lastAt {
		return p.errorf("run until %s ends before the at on line %d (%s)", shortdur.Format(t), p.lastAtLine, shortdur.Format(p.lastAt))
	}
	p.sawRun, p.s.Until = true, t
	return nil
}

func (p *parser) assert(args []string) error {
	if !p.sawRun {
		return p.errorf("assert before run until")
	}
	switch {
	case len(args) == 2 && args[0] == "liveness" && args[1] == "checked":
		p.s.asserts = append(p.s.asserts, scAssert{line: p.line, kind: assertLiveness})
		return nil
	case len(args) >= 2 && args[0] == "unscheduled" && !isComparison(args[1]):
		return p.assertUnscheduled(args[1:])
	case len(args) == 0:
		return p.errorf("assert: want METRIC OP VALUE, unscheduled UNIT [REASON] or liveness checked")
	}
	m := findMetric(args[0])
	switch {
	case m == nil:
		return p.errorf("assert: unknown metric %q (want %s)", args[0], metricNames())
	case len(args) < 3:
		return p.errorf("assert %s: want %s OP VALUE", args[0], args[0])
	case !isComparison(args[1]):
		return p.errorf("assert %s: unknown operator %q (want == != < <= > >=)", args[0], args[1])
	case len(args) > 3:
		return p.errorf("assert %s: unexpected %q after the value", args[0], strings.Join(args[3:], " "))
	}
	want, err := m.parse(args[2])
	if err != nil {
		return p.errorf("assert %s: %w", args[0], err)
	}
	p.s.asserts = append(p.s.asserts, scAssert{line: p.line, kind: assertMetric, metric: m, cmp: args[1], want: want, wantText: args[2]})
	return nil
}

func (p *parser) assertUnscheduled(args []string) error {
	if len(args) > 2 {
		return p.errorf("assert unscheduled: unexpected %q after the reason", strings.Join(args[2:], " "))
	}
	names, err := expandBraces(args[0])
	if err != nil {
		return p.errorf("assert unscheduled: %w", err)
	}
	reason := ""
	if len(args) == 2 {
		if reason = args[1]; !isReason(reason) {
			return p.errorf("assert unscheduled %s: unknown reason %q", args[0], reason)
		}
	}
	for _, n := range names {
		if _, ok := p.units[n]; !ok {
			return p.errorf("assert unscheduled: no unit %q", n)
		}
		p.s.asserts = append(p.s.asserts, scAssert{line: p.line, kind: assertUnscheduled, unit: n, reason: reason})
	}
	return nil
}

// finish checks what only the end of the file tells.
func (p *parser) finish() error {
	switch {
	case !p.sawCluster:
		p.line = max(p.line, 1)
		return p.errorf("no cluster line")
	case !p.sawRun && p.firstAt > 0:
		p.line = p.firstAt
		return p.errorf("at without a run until after it")
	case !p.sawRun:
		return p.errorf("no run until line")
	}
	return nil
}

func checkMachineID(id string) error {
	if id == "" || strings.ContainsAny(id, "=\"# \t\r") {
		return fmt.Errorf("bad machine ID %q", id)
	}
	return nil
}

// isTemplate reports whether name is a template such as web@.service.
func isTemplate(name string) bool {
	n, err := unit.ParseName(name)
	return err == nil && n.IsTemplate()
}

func copyMetaOrNil(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return copyMeta(m)
}
