/**
 * A single self-contained HTML report: inline CSS and inline SVG only (no scripts, fonts or remote
 * resources), so it opens offline and renders the same in any browser.
 */
import type {BenchRun, PointResult} from '../results/bench-run.js'
import {heatMap, lineChart, escapeXml, type Series} from './svg-charts.js'
import {renderMarkdown} from './markdown.js'
import {fmt, fmtMs, pct} from './format.js'
import {hasCluster, loadLabel, mainPrediction, serverLabel, toRows} from './rows.js'

function groupName(p: PointResult, multiModel: boolean): string {
  const c = p.config.client
  return [multiModel ? p.config.model : '', serverLabel(p), c.clientBatch > 1 ? `×${c.clientBatch}` : '', c.repeatRatio ? `rep ${c.repeatRatio}` : '']
    .filter(Boolean)
    .join(' ')
}

/** Closed-loop points by concurrency, then open-loop points by rate. */
function byLoad(a: PointResult, b: PointResult): number {
  const [ca, cb] = [a.config.client, b.config.client]
  if (ca.mode !== cb.mode) return ca.mode === 'closed' ? -1 : 1
  return (ca.concurrency ?? ca.rate ?? 0) - (cb.concurrency ?? cb.rate ?? 0)
}

export function charts(run: BenchRun): string[] {
  const pts = run.points.filter((p) => !p.failed && p.throughput > 0)
  const multi = new Set(pts.map((p) => p.config.model)).size > 1
  const fits = run.fits ?? []
  const groups = new Map<string, PointResult[]>()
  for (const p of pts) {
    const k = p.group ?? p.id
    if (!groups.has(k)) groups.set(k, [])
    groups.get(k)!.push(p)
  }
  const out: string[] = []
  // 1. Throughput vs concurrency, measured and the fitted USL curve.
  const tSeries: Series[] = []
  for (const [k, g] of groups) {
    const closed = g.filter((p) => p.config.client.mode === 'closed')
    if (!closed.length) continue
    const name = groupName(closed[0]!, multi)
    tSeries.push({name, points: closed.map((p) => [p.config.client.concurrency!, p.throughput])})
    const curve = fits.find((f) => f.serverKey === k)?.usl?.curve
    if (curve) tSeries.push({name: `USL fit (${name})`, points: curve, dashed: true})
  }
  if (tSeries.length)
    out.push(lineChart({title: 'Throughput vs concurrency', xLabel: 'concurrency (log scale)', yLabel: 'requests/s', series: tSeries, logX: true}))
  // 2. Latency vs throughput with the queueing prediction, each line joined along increasing load: past
  // the knee throughput can fall while latency rises, and sorting by throughput would zig-zag.
  const lSeries: Series[] = []
  for (const group of groups.values()) {
    const g = [...group].sort(byLoad)
    const name = groupName(g[0]!, multi)
    lSeries.push({name: `${name} mean`, points: g.map((p) => [p.throughput, p.latency.meanMs]), ordered: true})
    lSeries.push({name: `${name} p99`, points: g.map((p) => [p.throughput, p.latency.p99Ms]), ordered: true})
    const pred = g.map((p) => [p.throughput, (mainPrediction(p)?.predicted ?? NaN) * 1000] as [number, number]).filter(([, y]) => Number.isFinite(y))
    if (pred.length) lSeries.push({name: `${name} predicted mean`, points: pred, dashed: true, ordered: true})
  }
  if (lSeries.length)
    out.push(
      lineChart({
        title: 'Latency vs throughput (measured and queueing prediction)',
        xLabel: 'throughput (requests/s)',
        yLabel: 'latency (ms)',
        series: lSeries,
      }),
    )
  // 3. Latency percentiles per point.
  const order = [...pts]
  const pctSeries: Series[] = (['p50Ms', 'p90Ms', 'p99Ms', 'p999Ms'] as const).map((k) => ({
    name: k.replace('Ms', '').replace('p999', 'p99.9'),
    points: order.map((p, i) => [i + 1, p.latency[k]] as [number, number]),
  }))
  if (order.length)
    out.push(lineChart({title: 'Latency percentiles by point (see table for point numbers)', xLabel: 'point #', yLabel: 'latency (ms)', series: pctSeries}))
  // 4. Heat map when the sweep has two dimensions: server configuration × load.
  const rows = [...new Set(pts.map((p) => groupName(p, multi)))]
  const cols = [...new Set(pts.map((p) => loadLabel(p)))]
  if (rows.length > 1 && cols.length > 1) {
    const v = new Map(pts.map((p) => [`${groupName(p, multi)}|${loadLabel(p)}`, p.inferencesPerSec]))
    out.push(heatMap({title: 'Throughput by configuration and load', rows, cols, value: (r, c) => v.get(`${r}|${c}`), unit: 'inferences/s'}))
  }
  return out
}

export function renderHtml(run: BenchRun): string {
  const rows = toRows(run)
  const rec = run.recommendation
  const e = escapeXml
  const table = [
    '<table><thead><tr><th>#</th><th>model</th><th>server</th><th>load</th><th>req/s</th><th>inf/s</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>errors</th><th>stable</th><th>queue ms</th><th>batch</th><th>hit</th><th>predicted mean</th><th>rel. err</th><th>violated assumptions</th></tr></thead><tbody>',
    ...rows.map(
      (r, i) =>
        `<tr class="${r.recommended ? 'rec' : ''}${r.failed ? ' failed' : ''}"><td>${i + 1}</td><td>${e(r.model)}</td><td>${e(r.server)}</td><td>${e(r.load)}</td><td>${fmt(r.throughput, 0)}</td><td>${fmt(r.inferencesPerSec, 0)}</td><td>${fmtMs(r.meanMs)}</td><td>${fmtMs(r.p50Ms)}</td><td>${fmtMs(r.p90Ms)}</td><td>${fmtMs(r.p99Ms)}</td><td>${fmtMs(r.p999Ms)}</td><td>${r.errors}</td><td>${r.failed ? 'failed' : r.stable ? 'yes' : 'no'}</td><td>${fmtMs(r.queueMs)}</td><td>${fmt(r.batchSize, 1)}</td><td>${pct(r.cacheHitRatio)}</td><td>${r.predictedMeanMs !== undefined ? `${fmtMs(r.predictedMeanMs)} (${e(r.predictedBy ?? '')})` : '–'}</td><td>${r.calibration ? 'calibration' : pct(r.relErr)}</td><td>${e(r.violated || '–')}</td></tr>`,
    ),
    '</tbody></table>',
  ].join('\n')
  // Behind a balancer: the same cluster columns as the terminal table and the Markdown report.
  const clusterTable = hasCluster(run)
    ? [
        "<h2>Replicas behind the balancer</h2><p>Requests each replica answered (its own metrics); imbalance = max/mean; balancer +ms = the hop's median extra latency (GET /healthz, balancer minus direct), idle (200 one at a time before the point) and at load (a pair every 25 ms while the point's load ran); the policy's cluster model (src/queueing/cluster.ts) beside the measurement.</p>",
        '<table><thead><tr><th>server</th><th>load</th><th>replicas × policy</th><th>regime</th><th>per-replica requests</th><th>imbalance</th><th>balancer +ms idle</th><th>balancer +ms at load</th><th>cluster model vs measured</th></tr></thead><tbody>',
        ...rows.flatMap((r) =>
          r.cluster
            ? [
                `<tr><td>${e(r.server)}</td><td>${e(r.load)}</td><td>${e(r.cluster.label)}</td><td>${e(r.cluster.regime)}</td><td>${e(r.cluster.perReplica)}</td><td>${fmt(r.cluster.imbalance, 2)}</td><td>${fmtMs(r.cluster.addedMs)}</td><td>${fmtMs(r.cluster.addedAtLoadMs)}</td><td>${e(r.cluster.prediction)}</td></tr>`,
              ]
            : [],
        ),
        '</tbody></table>',
      ].join('\n')
    : ''
  const warnings = (run.warnings ?? []).map((w) => `<li>${e(w)}</li>`).join('')
  const recHtml = rec
    ? `<p>${e(rec.reason)}: <b>${fmt(rec.throughput, 0)} req/s</b>, p99 ${fmtMs(rec.p99Ms)} ms.</p><pre>${e(rec.serveCommand)}</pre><p>TF Serving <code>batching_parameters.txt</code>:</p><pre>${e(rec.tfServing.batchingParametersTxt)}</pre><p>TF Serving flags: <code>${e(rec.tfServing.flags.join(' '))}</code></p>${
        rec.cluster
          ? `<p>${rec.cluster.replicas} replica(s), policy <b>${e(rec.cluster.lb)}</b> (measured behind ${e(rec.cluster.balancer)}).</p><p>nginx <code>upstream</code>:</p><pre>${e(rec.cluster.nginxUpstream)}</pre><p>HAProxy <code>backend</code>:</p><pre>${e(rec.cluster.haproxyBackend)}</pre>`
          : ''
      }`
    : '<p>No configuration met the objective without errors.</p>'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tfsopt bench: ${e(run.model.name)}</title>
<meta name="generator" content="tfsopt ${e(run.tfsoptVersion)}">
<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}
td:nth-child(2),td:nth-child(3),td:nth-child(4),td:last-child{text-align:left}tr.rec{background:#e8f5e9}tr.failed{color:#b00}
pre{background:#f6f6f6;padding:8px}.charts svg{display:block;margin:12px 0;border:1px solid #eee}
</style></head><body>
<h1>tfsopt bench: ${e(run.model.name)}</h1>
<p>Target ${e(run.target.url)} · ${run.machine.cores} cores (${e(run.machine.cpuModel)}) · ${e(run.startedAt)} · schema ${e(run.schema)}</p>
<h2>Recommendation</h2>${recHtml}
<h2>Charts</h2><div class="charts">${charts(run).join('\n')}</div>
<h2>Points</h2>${table}${clusterTable}
${warnings ? `<h2>Warnings</h2><ul>${warnings}</ul>` : ''}
<!-- markdown summary for copy-paste -->
<details><summary>Markdown</summary><pre>${e(renderMarkdown(run))}</pre></details>
</body></html>
`
}
