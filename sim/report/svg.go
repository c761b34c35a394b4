package report

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/fleetsim/fleet/sim"
)

// Chart geometry, in SVG user units (the SVG scales to its container).
const (
	chartW      = 1000
	chartH      = 240
	padLeft     = 64
	padRight    = 16
	padTop      = 28
	padBottom   = 34
	maxPoints   = 1200 // series longer than this are thinned
	histBins    = 40
	minLabelGap = 70 // px between two fault labels
)

// plot maps data to the plotting area of one chart.
type plot struct {
	xmax float64 // data x range is [0, xmax]
	ymax float64 // data y range is [0, ymax]
	b    strings.Builder
}

func (p *plot) x(v float64) float64 {
	return padLeft + v/p.xmax*(chartW-padLeft-padRight)
}

func (p *plot) y(v float64) float64 {
	return chartH - padBottom - v/p.ymax*(chartH-padTop-padBottom)
}

func (p *plot) printf(format string, args ...any) { fmt.Fprintf(&p.b, format, args...) }

// open starts the SVG with its accessible title.
func (p *plot) open(title string) {
	p.printf(`<svg viewBox="0 0 %d %d" role="img" xmlns="http://www.w3.org/2000/svg"><title>%s</title>`,
		chartW, chartH, html.EscapeString(title))
}

func (p *plot) close() string {
	p.b.WriteString("</svg>")
	return p.b.String()
}

// yAxis draws horizontal grid lines with compact labels.
func (p *plot) yAxis(ticks []float64) {
	for _, t := range ticks {
		y := p.y(t)
		p.printf(`<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padLeft, y, chartW-padRight, y)
		p.printf(`<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padLeft-8, y+4, compact(t))
	}
}

// xAxisTime draws the time axis of a chart whose x data are seconds.
func (p *plot) xAxisTime(ticks []time.Duration) {
	base := chartH - padBottom
	p.printf(`<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, padLeft, base, chartW-padRight, base)
	for _, t := range ticks {
		x := p.x(t.Seconds())
		p.printf(`<line class="axis" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, base, x, base+5)
		p.printf(`<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x, base+20, Duration(t))
	}
}

// faultGroup is every injected operation at one instant.
type faultGroup struct {
	At     time.Duration
	Label  string // short, for the charts: "kill ×1000"
	Detail string // the operations themselves, for the table
}

// maxDetail bounds how many operations a group's Detail names.
const maxDetail = 8

// groupFaults merges the operations injected at the same instant: a kill
// wave of a thousand machines is one marker, "kill ×1000".
func groupFaults(fs []sim.FaultMark) []faultGroup {
	var out []faultGroup
	for i := 0; i < len(fs); {
		j, same := i+1, true
		kind := firstWord(fs[i].Label)
		for j < len(fs) && fs[j].At == fs[i].At {
			same = same && firstWord(fs[j].Label) == kind
			j++
		}
		g := faultGroup{At: fs[i].At, Label: fs[i].Label, Detail: fs[i].Label}
		if n := j - i; n > 1 {
			g.Label = fmt.Sprintf("%d operations", n)
			if same {
				g.Label = fmt.Sprintf("%s ×%d", kind, n)
			}
			var names []string
			for _, f := range fs[i:min(j, i+maxDetail)] {
				names = append(names, f.Label)
			}
			g.Detail = strings.Join(names, ", ")
			if n > maxDetail {
				g.Detail += fmt.Sprintf(" and %d more", n-maxDetail)
			}
		}
		out = append(out, g)
		i = j
	}
	return out
}

func firstWord(s string) string {
	if k := strings.IndexByte(s, ' '); k >= 0 {
		return s[:k]
	}
	return s
}

// faultMarkers draws a dashed vertical line per fault group, labelled
// where there is room.
func (p *plot) faultMarkers(groups []faultGroup) {
	lastLabel := math.Inf(-1)
	for _, g := range groups {
		if g.At.Seconds() > p.xmax {
			continue
		}
		x := p.x(g.At.Seconds())
		p.printf(`<line class="fault" x1="%.1f" y1="%d" x2="%.1f" y2="%d"><title>%s at %s</title></line>`,
			x, padTop-6, x, chartH-padBottom, html.EscapeString(g.Label), Duration(g.At))
		if x-lastLabel >= minLabelGap {
			anchor, dx := "start", 4.0
			if x > chartW-padRight-180 {
				anchor, dx = "end", -4 // near the right edge, label on the left
			}
			p.printf(`<text class="fault-label" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x+dx, padTop-10, anchor, html.EscapeString(g.Label))
			lastLabel = x
		}
	}
}

// SeriesChart draws one measure of the time series as a filled step line
// over [0, until], with the faults marked.
func SeriesChart(title, class string, samples []sim.Sample, value func(sim.Sample) float64, faults []sim.FaultMark, until time.Duration) string {
	samples = thin(samples, maxPoints)
	top := 0.0
	for _, s := range samples {
		top = math.Max(top, value(s))
	}
	yticks, ymax := niceTicks(top, 4)
	xticks, xmax := timeTicks(until, 8)
	p := &plot{xmax: xmax.Seconds(), ymax: ymax}
	p.open(title)
	p.yAxis(yticks)
	p.xAxisTime(xticks)
	if len(samples) > 0 {
		// A step line: a sample holds until the next one, so that a
		// change never seems to start before it happened.
		var line strings.Builder
		for i, s := range samples {
			if i == 0 {
				fmt.Fprintf(&line, "M%.1f %.1f", p.x(s.At.Seconds()), p.y(value(s)))
				continue
			}
			fmt.Fprintf(&line, "H%.1fV%.1f", p.x(s.At.Seconds()), p.y(value(s)))
		}
		first, last := samples[0].At.Seconds(), samples[len(samples)-1].At.Seconds()
		base := p.y(0)
		p.printf(`<path class="%s area" d="%sL%.1f %.1fL%.1f %.1fZ"/>`, class, line.String(), p.x(last), base, p.x(first), base)
		p.printf(`<path class="%s line" d="%s"/>`, class, line.String())
	}
	p.faultMarkers(groupFaults(faults))
	return p.close()
}

// thin keeps at most n samples, evenly spaced, and always the last one.
func thin(s []sim.Sample, n int) []sim.Sample {
	if len(s) <= n {
		return s
	}
	step := (len(s) + n - 1) / n
	out := make([]sim.Sample, 0, n+1)
	for i := 0; i < len(s); i += step {
		out = append(out, s[i])
	}
	if out[len(out)-1].At != s[len(s)-1].At {
		out = append(out, s[len(s)-1])
	}
	return out
}

// Histogram draws the distribution of latencies with the p50 and p99
// marked. lat.Samples must be sorted, as sim.Result gives them.
func Histogram(title string, lat sim.Latencies) string {
	xticks, xmax := timeTicks(lat.Max, 8)
	if xmax <= 0 {
		xticks, xmax = timeTicks(time.Second, 8)
	}
	width := xmax / histBins
	counts := make([]int, histBins)
	for _, d := range lat.Samples {
		k := min(int(d/width), histBins-1)
		counts[k]++
	}
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	yticks, ymax := niceTicks(float64(top), 4)
	p := &plot{xmax: xmax.Seconds(), ymax: ymax}
	p.open(title)
	p.yAxis(yticks)
	for k, c := range counts {
		if c == 0 {
			continue
		}
		lo := time.Duration(k) * width
		x0, x1 := p.x(lo.Seconds()), p.x((lo + width).Seconds())
		h := math.Max(p.y(0)-p.y(float64(c)), 2) // a lone outlier stays visible
		p.printf(`<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s–%s: %d</title></rect>`,
			x0+1, p.y(0)-h, math.Max(x1-x0-2, 1), h, Duration(lo), Duration(lo+width), c)
	}
	p.xAxisTime(xticks)
	if lat.Count > 0 {
		p.quantile("p50", lat.P50, "end", 0)
		p.quantile("p99", lat.P99, "start", 14)
		p.printf(`<text class="legend" x="%d" y="%d" text-anchor="end">n %d · p50 %s · p99 %s · max %s</text>`,
			chartW-padRight, padTop-12, lat.Count, Duration(lat.P50), Duration(lat.P99), Duration(lat.Max))
	}
	return p.close()
}

// quantile marks a latency quantile with a vertical line named on one
// side (p50 on its left, p99 on its right and a line lower, so that they
// never overlap), or on the other side when the edge is too close.
func (p *plot) quantile(name string, d time.Duration, side string, dy int) {
	x := p.x(d.Seconds())
	p.printf(`<line class="quantile" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`, x, padTop, x, chartH-padBottom)
	switch {
	case side == "end" && x < padLeft+40:
		side = "start"
	case side == "start" && x > chartW-padRight-40:
		side = "end"
	}
	dx := 4.0
	if side == "end" {
		dx = -4
	}
	p.printf(`<text class="quantile-label" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x+dx, padTop+12+dy, side, name)
}

// niceTicks returns ticks 0, s, 2s, ... covering [0, top], s being 1, 2
// or 5 times a power of ten, and the last tick.
func niceTicks(top float64, n int) ([]float64, float64) {
	if top <= 0 {
		top = 1
	}
	raw := top / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []float64
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= top {
			return ticks, v
		}
	}
}

// timeSteps are the tick spacings a time axis may use.
var timeSteps = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// timeTicks returns at most about n ticks covering [0, until] and the
// last tick.
func timeTicks(until time.Duration, n int) ([]time.Duration, time.Duration) {
	if until <= 0 {
		until = time.Second
	}
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if until/s <= time.Duration(n) {
			step = s
			break
		}
	}
	var ticks []time.Duration
	for t := time.Duration(0); ; t += step {
		ticks = append(ticks, t)
		if t >= until {
			return ticks, t
		}
	}
}

// compact prints an axis value: 950, 1.5k, 100k, 2.5M.
func compact(v float64) string {
	switch {
	case v >= 1e6:
		return trimZero(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case v >= 1e3:
		return trimZero(fmt.Sprintf("%.1f", v/1e3)) + "k"
	}
	return trimZero(fmt.Sprintf("%.1f", v))
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// Duration prints a duration without its zero tails: 20m, 1h30m, 21.5s,
// 250ms.
func Duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
