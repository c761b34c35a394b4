package report

import "html/template"

// page is the report's HTML. Its style is inline: the page stands alone.
var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; --ok: #047857; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 24px 48px; }
header { display: flex; align-items: baseline; gap: 14px; flex-wrap: wrap; }
h1 { font-size: 24px; margin: 0; }
h2 { font-size: 15px; margin: 0 0 10px; }
.subtitle { color: var(--muted); }
.badge { margin-left: auto; padding: 3px 12px; border-radius: 999px; font-weight: 600; color: #fff; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
.params { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 12px 0 4px; color: var(--muted); }
.params b { color: var(--ink); font-weight: 600; }
.replay { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #eef2f7;
  padding: 6px 10px; border-radius: 6px; margin: 8px 0 0; overflow-x: auto; white-space: nowrap; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 12px; margin: 20px 0; }
.stat { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.stat .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.stat .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; word-break: break-all; }
.stat .note { color: var(--muted); font-size: 12px; }
.stat.mono { grid-column: span 2; } .stat.mono .value { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.stat.bad { border-color: #fecaca; background: #fef2f2; } .stat.bad .value { color: var(--bad); }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 0 0 16px; }
svg { width: 100%; height: auto; display: block; }
svg text { font: 12px -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--muted); }
svg .grid { stroke: var(--line); } svg .axis { stroke: #9ca3af; }
svg .line { fill: none; stroke-width: 2; } svg .area { stroke: none; opacity: .12; }
svg .units.line { stroke: #2563eb; } svg .units.area { fill: #2563eb; }
svg .machines.line { stroke: #059669; } svg .machines.area { fill: #059669; }
svg .fault { stroke: #dc2626; stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .fault-label { fill: #dc2626; font-weight: 600; }
svg .bar { fill: #7c3aed; opacity: .85; }
svg .quantile { stroke: #111827; stroke-dasharray: 2 3; } svg .quantile-label { fill: #111827; font-weight: 600; }
svg .legend { fill: var(--ink); }
.empty { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
td, th { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.mono, li.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
ul.failures { margin: 0; padding-left: 18px; color: var(--bad); }
.more { color: var(--muted); margin-top: 6px; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
</style>
</head>
<body>
<main>
<header>
  <h1>{{.Title}}</h1>
  <span class="subtitle">{{.Subtitle}}</span>
  {{if .OK}}<span class="badge ok">PASS</span>{{else}}<span class="badge bad">FAIL</span>{{end}}
</header>
<div class="params">{{range .Params}}<span>{{.Name}} <b>{{.Value}}</b></span>{{end}}</div>
{{if .Replay}}<div class="replay">{{.Replay}}</div>{{end}}

<div class="stats">{{range .Stats}}
  <div class="stat{{if .Bad}} bad{{end}}{{if .Mono}} mono{{end}}"><div class="label">{{.Label}}</div><div class="value">{{.Value}}</div>{{if .Note}}<div class="note">{{.Note}}</div>{{end}}</div>{{end}}
</div>

{{if .Failures}}<section class="card">
  <h2>Failures</h2>
  <ul class="failures">{{range .Failures}}<li class="mono">{{.}}</li>{{end}}</ul>
  {{if .MoreFailures}}<div class="more">and {{.MoreFailures}} more</div>{{end}}
</section>{{end}}

<section class="card">
  <h2>Units running</h2>
  {{.Units}}
</section>
<section class="card">
  <h2>Machines alive</h2>
  {{.Machines}}
</section>
<section class="card">
  <h2>Reschedule latency <span class="subtitle">(from a machine's crash to its unit active elsewhere)</span></h2>
  {{if .Result.Reschedule.Count}}{{.Latency}}{{else}}<p class="empty">No unit had to be rescheduled.</p>{{end}}
</section>

<section class="card">
  <h2>Injected operations</h2>
  {{if .Faults}}<table><tr><th>at</th><th>operation</th></tr>
  {{range .Faults}}<tr><td class="mono">{{call $.Duration .At}}</td><td>{{.Detail}}</td></tr>{{end}}</table>
  {{if .MoreFaults}}<div class="more">and {{.MoreFaults}} more</div>{{end}}
  {{else}}<p class="empty">None.</p>{{end}}
</section>

<section class="card">
  <h2>Unscheduled units <span class="subtitle">(active units the last plan left without a machine)</span></h2>
  {{if .Unscheduled}}<table><tr><th>unit</th><th>reason</th></tr>
  {{range .Unscheduled}}<tr><td class="mono">{{.Name}}</td><td>{{.Value}}</td></tr>{{end}}</table>
  {{if .MoreUnscheduled}}<div class="more">and {{.MoreUnscheduled}} more</div>{{end}}
  {{else}}<p class="empty">None.</p>{{end}}
</section>
<footer>fleetsim — deterministic: the same command gives the same trace hash.</footer>
</main>
</body>
</html>
`))
