package sim

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fleetsim/fleet/internal/shortdur"
	"github.com/fleetsim/fleet/unit"
)

// The words of the scenario grammar: splitting lines, expanding braces,
// reading and writing values, the cluster keys and the operations, and
// String, which writes a scenario back as a file.

// splitWords splits a line into words: white space separates them,
// double quotes group (and are dropped), and a # that starts a word
// starts a comment.
func splitWords(line string) ([]string, error) {
	var (
		out          []string
		cur          strings.Builder
		quoted, word bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '"':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '"':
			quoted, word = true, true
		case c == ' ' || c == '\t' || c == '\r':
			if word {
				out = append(out, cur.String())
				cur.Reset()
				word = false
			}
		case c == '#' && !word:
			return out, nil
		default:
			cur.WriteByte(c)
			word = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if word {
		out = append(out, cur.String())
	}
	return out, nil
}

// maxExpansion bounds what one word may expand to.
const maxExpansion = 100000

// expandBraces expands {a,b} and {1..3} groups as a shell does; several
// groups give every combination, in order.
func expandBraces(s string) ([]string, error) {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		if strings.IndexByte(s, '}') >= 0 {
			return nil, fmt.Errorf("%q: } without {", s)
		}
		return []string{s}, nil
	}
	if strings.IndexByte(s[:open], '}') >= 0 {
		return nil, fmt.Errorf("%q: } without {", s)
	}
	end := strings.IndexByte(s[open:], '}')
	if end < 0 {
		return nil, fmt.Errorf("%q: { without }", s)
	}
	end += open
	items, err := braceItems(s[open+1 : end])
	if err != nil {
		return nil, fmt.Errorf("%q: %w", s, err)
	}
	rests, err := expandBraces(s[end+1:])
	if err != nil {
		return nil, err
	}
	if len(items)*len(rests) > maxExpansion {
		return nil, fmt.Errorf("%q expands to more than %d words", s, maxExpansion)
	}
	out := make([]string, 0, len(items)*len(rests))
	for _, it := range items {
		for _, r := range rests {
			out = append(out, s[:open]+it+r)
		}
	}
	return out, nil
}

func braceItems(body string) ([]string, error) {
	if lo, hi, ok := strings.Cut(body, ".."); ok {
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || a > b || b-a >= maxExpansion {
			return nil, fmt.Errorf("{%s}: want {LOW..HIGH} with LOW <= HIGH", body)
		}
		out := make([]string, 0, b-a+1)
		for i := a; i <= b; i++ {
			out = append(out, strconv.Itoa(i))
		}
		return out, nil
	}
	items := strings.Split(body, ",")
	if len(items) < 2 {
		return nil, fmt.Errorf("{%s}: want {a,b} or {1..3}", body)
	}
	for _, it := range items {
		if it == "" {
			return nil, fmt.Errorf("{%s}: empty alternative", body)
		}
	}
	return items, nil
}

// parseDuration reads a non-negative Go duration (1m30s).
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration: %w", err)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %s", s)
	}
	return d, nil
}

// parseRate reads a fraction, 0.05 or 5%.
func parseRate(s string) (float64, error) {
	num, scale := s, 1.0
	if strings.HasSuffix(s, "%") {
		num, scale = strings.TrimSuffix(s, "%"), 100
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a rate (0.05 or 5%%)", s)
	}
	return f / scale, nil
}

func fmtPercent(f float64) string { return strconv.FormatFloat(f*100, 'g', 10, 64) + "%" }

func parseProbability(s string) (float64, error) {
	f, err := parseRate(s)
	if err == nil && (f < 0 || f > 1) {
		err = fmt.Errorf("%s is not between 0 and 100%%", s)
	}
	return f, err
}

// parseClusterMeta reads region:eu|us,disk:ssd.
func parseClusterMeta(v string) ([]metaKey, error) {
	var out []metaKey
	for _, part := range strings.Split(v, ",") {
		k, vals, ok := strings.Cut(part, ":")
		if !ok || k == "" || strings.ContainsAny(k, "=|") {
			return nil, fmt.Errorf("%q: want key:value|value", part)
		}
		for _, o := range out {
			if o.key == k {
				return nil, fmt.Errorf("key %s given twice", k)
			}
		}
		mk := metaKey{key: k, values: strings.Split(vals, "|")}
		for _, x := range mk.values {
			if x == "" {
				return nil, fmt.Errorf("%q: empty value", part)
			}
		}
		out = append(out, mk)
	}
	return out, nil
}

// parseMetaWords reads k=v words into metadata.
func parseMetaWords(words []string) (map[string]string, error) {
	meta := map[string]string{}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not k=v", w)
		}
		if _, dup := meta[k]; dup {
			return nil, fmt.Errorf("metadata key %s given twice", k)
		}
		meta[k] = v
	}
	return meta, nil
}

// configKey is one key=value of the cluster line, other than machines,
// seed and metadata.
type configKey struct {
	name     string
	dur      func(*Config) *time.Duration // a duration field, or
	num      func(*Config) *float64       // a number field
	positive bool                         // the duration must be above 0
	prob     bool                         // the number is a probability
}

var configKeys = []configKey{
	{name: "ttl", dur: func(c *Config) *time.Duration { return &c.AgentTTL }, positive: true},
	{name: "heartbeat", dur: func(c *Config) *time.Duration { return &c.HeartbeatInterval }, positive: true},
	{name: "reconcile", dur: func(c *Config) *time.Duration { return &c.EngineInterval }, positive: true},
	{name: "agent", dur: func(c *Config) *time.Duration { return &c.AgentInterval }, positive: true},
	{name: "leader-ttl", dur: func(c *Config) *time.Duration { return &c.LeaderTTL }, positive: true},
	{name: "latency", dur: func(c *Config) *time.Duration { return &c.Latency }},
	{name: "jitter", dur: func(c *Config) *time.Duration { return &c.LatencyJitter }},
	{name: "start", dur: func(c *Config) *time.Duration { return &c.StartTime }, positive: true},
	{name: "start-jitter", dur: func(c *Config) *time.Duration { return &c.StartJitter }},
	{name: "sample", dur: func(c *Config) *time.Duration { return &c.SampleInterval }, positive: true},
	{name: "start-fail", num: func(c *Config) *float64 { return &c.StartFailProb }, prob: true},
	{name: "heartbeat-loss", num: func(c *Config) *float64 { return &c.HeartbeatLoss }, prob: true},
	{name: "crash-per-hour", num: func(c *Config) *float64 { return &c.CrashPerHour }},
}

func findConfigKey(name string) *configKey {
	for i := range configKeys {
		if configKeys[i].name == name {
			return &configKeys[i]
		}
	}
	return nil
}

func (k *configKey) set(c *Config, v string) error {
	if k.dur != nil {
		d, err := parseDuration(v)
		if err == nil && k.positive && d == 0 {
			err = errors.New("want a duration above 0")
		}
		*k.dur(c) = d
		return err
	}
	var f float64
	var err error
	if k.prob {
		f, err = parseProbability(v)
	} else if f, err = strconv.ParseFloat(v, 64); err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		err = fmt.Errorf("%q is not a rate of 0 or more", v)
	}
	*k.num(c) = f
	return err
}

// text writes the key's value in c, and whether it differs from d.
func (k *configKey) text(c, d *Config) (string, bool) {
	if k.dur != nil {
		return shortdur.Format(*k.dur(c)), *k.dur(c) != *k.dur(d)
	}
	if k.prob {
		return fmtPercent(*k.num(c)), *k.num(c) != *k.num(d)
	}
	return strconv.FormatFloat(*k.num(c), 'g', -1, 64), *k.num(c) != *k.num(d)
}

// opTarget says what an operation names after its verb.
type opTarget string

const (
	targetNone       opTarget = ""
	targetMachine    opTarget = "machine"
	targetNewMachine opTarget = "new machine"
	targetUnit       opTarget = "unit"
)

// opSpec is one operation of an at line.
type opSpec struct {
	verb   string
	kind   OpKind
	fault  bool
	state  unit.State
	target opTarget
	parse  func(op *Op, args []string) error // the words after the target
	text   func(op *Op) string               // writes them back
}

var opSpecs = []opSpec{
	{"kill", OpKill, true, 0, targetMachine, noArgs, noText},
	{"rejoin", OpRejoin, true, 0, targetMachine, noArgs, noText},
	{"partition", OpPartition, true, 0, targetMachine, noArgs, noText},
	{"heal", OpHeal, true, 0, targetMachine, noArgs, noText},
	{"kill-leader", OpKillLeader, true, 0, targetNone, noArgs, noText},
	{"registry-slow", OpRegistrySlow, true, 0, targetNone, parseSlow, slowText},
	{"lose-heartbeats", OpLoseHeartbeats, true, 0, targetMachine, parseRateFor("lose-heartbeats MACHINE RATE for DURATION"), lossText},
	{"skew", OpSkew, true, 0, targetMachine, parseSkew, skewText},
	{"commit-timeouts", OpCommitTimeouts, true, 0, targetNone, parseRateFor("commit-timeouts RATE for DURATION"), lossText},
	{"lose-watch", OpLoseWatch, true, 0, targetMachine, noArgs, noText},
	{"stall-watch", OpStallWatch, true, 0, targetMachine, parseForOnly, forText},
	{"join", OpJoin, false, 0, targetNewMachine, parseMetaArgs, metaText},
	{"metadata", OpSetMetadata, false, 0, targetMachine, parseMetaArgs, metaText},
	{"start", OpSetState, false, unit.StateLaunched, targetUnit, noArgs, noText},
	{"load", OpSetState, false, unit.StateLoaded, targetUnit, noArgs, noText},
	{"stop", OpSetState, false, unit.StateLoaded, targetUnit, noArgs, noText},
	{"unload", OpSetState, false, unit.StateInactive, targetUnit, noArgs, noText},
}

func findOpSpec(verb string) *opSpec {
	for i := range opSpecs {
		if opSpecs[i].verb == verb {
			return &opSpecs[i]
		}
	}
	return nil
}

func noArgs(_ *Op, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected %q", strings.Join(args, " "))
	}
	return nil
}

func noText(*Op) string { return "" }

// parseFor reads "for DURATION" and returns the duration.
func parseFor(args []string) (time.Duration, error) {
	if len(args) < 2 || args[0] != "for" {
		return 0, errors.New("want ... for DURATION")
	}
	if len(args) > 2 {
		return 0, fmt.Errorf("unexpected %q", strings.Join(args[2:], " "))
	}
	d, err := parseDuration(args[1])
	if err == nil && d == 0 {
		err = errors.New("for 0s does nothing")
	}
	return d, err
}

func parseSlow(op *Op, args []string) error {
	if len(args) == 0 {
		return errors.New("want registry-slow +DURATION for DURATION")
	}
	extra, err := parseDuration(strings.TrimPrefix(args[0], "+"))
	if err != nil {
		return err
	}
	op.Extra = extra
	op.For, err = parseFor(args[1:])
	return err
}

func slowText(op *Op) string {
	return "+" + shortdur.Format(op.Extra) + " for " + shortdur.Format(op.For)
}

// parseRateFor reads "RATE for DURATION", usage naming what the
// operation wants.
func parseRateFor(usage string) func(op *Op, args []string) error {
	return func(op *Op, args []string) error {
		if len(args) == 0 {
			return errors.New("want " + usage)
		}
		rate, err := parseProbability(args[0])
		if err != nil {
			return err
		}
		op.Rate = rate
		op.For, err = parseFor(args[1:])
		return err
	}
}

func parseForOnly(op *Op, args []string) (err error) {
	op.For, err = parseFor(args)
	return err
}

func forText(op *Op) string { return "for " + shortdur.Format(op.For) }

func lossText(op *Op) string { return fmtPercent(op.Rate) + " for " + shortdur.Format(op.For) }

func parseSkew(op *Op, args []string) error {
	if len(args) != 1 {
		return errors.New("want skew MACHINE RATE")
	}
	rate, err := parseRate(args[0])
	if err == nil && (rate < -0.9 || rate > 9) {
		err = fmt.Errorf("skew %s is not between -90%% and 900%%", args[0])
	}
	op.Rate = rate
	return err
}

func skewText(op *Op) string { return fmtPercent(op.Rate) }

func parseMetaArgs(op *Op, args []string) error {
	meta, err := parseMetaWords(args)
	op.Metadata = meta
	return err
}

func metaText(op *Op) string { return strings.TrimSpace(metaWords(op.Metadata)) }

// metaWords writes metadata as " k=v" words, keys sorted.
func metaWords(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(" " + quoteWord(k+"="+meta[k]))
	}
	return b.String()
}

// quoteWord quotes a word that would not read back as one word.
func quoteWord(w string) string {
	if w == "" || strings.ContainsAny(w, " \t\r#\"") {
		return `"` + w + `"`
	}
	return w
}

// String writes the scenario back in the grammar ParseScenario reads,
// one directive per line, units and operations expanded. Parsing the text
// gives the same scenario, so a generated one can be saved as a file.
func (s *Scenario) String() string {
	var b strings.Builder
	b.WriteString(s.clusterText() + "\n")
	for _, m := range s.machines[min(s.clusterN, len(s.machines)):] {
		b.WriteString("machine " + m.id + metaWords(m.meta) + "\n")
	}
	for _, u := range s.units {
		b.WriteString("unit " + u.name)
		if u.state != unit.StateLaunched {
			b.WriteString(" " + u.state.String())
		}
		for _, o := range u.opts {
			b.WriteString(" " + o.Name + "=" + quoteWord(o.Value))
		}
		if bw := u.beh.String(); bw != "" {
			b.WriteString(" " + bw)
		}
		b.WriteString("\n")
	}
	for _, o := range s.ops {
		words := []string{"at", shortdur.Format(o.at), o.verb}
		if target := o.op.Machine + o.op.Unit; target != "" {
			words = append(words, target)
		}
		if t := findOpSpec(o.verb).text(&o.op); t != "" {
			words = append(words, t)
		}
		b.WriteString(strings.Join(words, " ") + "\n")
	}
	b.WriteString("run until " + shortdur.Format(s.Until) + "\n")
	for i := range s.asserts {
		b.WriteString(s.asserts[i].String() + "\n")
	}
	return b.String()
}

func (s *Scenario) clusterText() string {
	d := DefaultConfig()
	out := fmt.Sprintf("cluster machines=%d seed=%d", s.clusterN, s.Config.Seed)
	for i := range configKeys {
		if v, differs := configKeys[i].text(&s.Config, &d); differs {
			out += " " + configKeys[i].name + "=" + v
		}
	}
	if len(s.clusterMeta) > 0 {
		parts := make([]string, len(s.clusterMeta))
		for i, mk := range s.clusterMeta {
			parts[i] = mk.key + ":" + strings.Join(mk.values, "|")
		}
		out += " metadata=" + strings.Join(parts, ",")
	}
	return out
}
