/** The terminal table (cli-table3) and the recommendation text, printed to stderr by the command. */
import Table from 'cli-table3'
import type {BenchRun, Recommendation} from '../results/bench-run.js'
import {fmt, fmtMs, pct} from './format.js'
import {hasCluster, toRows} from './rows.js'

/** " ±3%" from a relative half-width; nothing when unknown. */
const ci = (h: number | undefined): string => (h === undefined || !Number.isFinite(h) ? '' : ` ±${h < 0.0995 ? (h * 100).toFixed(1) : Math.round(h * 100)}%`)

const CLUSTER_HEAD = ['per-replica requests', 'imbal.', 'lb +ms idle/load', 'cluster model vs measured']

export function renderTable(run: BenchRun): string {
  const cluster = hasCluster(run)
  const t = new Table({
    head: [
      'model',
      'server',
      'load',
      'req/s',
      'inf/s',
      'mean',
      'p50',
      'p90',
      'p99 (spread)',
      'p99.9',
      'err',
      'queue',
      'batch',
      'hit',
      'cpu cli/srv',
      'predicted mean, req/s (model, errors)',
      ...(cluster ? CLUSTER_HEAD : []),
      '',
    ],
    style: {head: [], border: []},
  })
  for (const r of toRows(run)) {
    const mark = [r.recommended ? '★' : '', r.pareto ? 'P' : '', r.failed ? 'FAILED' : r.stable ? '' : 'unstable', r.errors ? '!' : '']
      .filter(Boolean)
      .join(' ')
    t.push([
      r.model,
      r.server,
      r.load + (r.clientBatch > 1 ? ` ×${r.clientBatch}` : '') + (r.repeatRatio ? ` rep ${r.repeatRatio}` : ''),
      fmt(r.throughput, 0) + ci(r.throughputCi),
      fmt(r.inferencesPerSec, 0),
      fmtMs(r.meanMs) + ci(r.meanCi),
      fmtMs(r.p50Ms),
      fmtMs(r.p90Ms),
      `${fmtMs(r.p99Ms)}${r.p99Spread ? ` (${r.p99Spread})` : ''}`,
      fmtMs(r.p999Ms),
      String(r.errors),
      fmtMs(r.queueMs),
      fmt(r.batchSize, 1),
      pct(r.cacheHitRatio),
      `${fmt(r.clientCpu, 2)}/${fmt(r.serverCpu, 2)}`,
      r.predictedMeanMs !== undefined
        ? `${fmtMs(r.predictedMeanMs)}${r.predictedThroughput !== undefined ? `, ${fmt(r.predictedThroughput, 0)}/s` : ''} (${r.predictedBy}, ${
            r.calibration ? 'calibration point' : `${pct(r.relErr)}${r.throughputRelErr !== undefined ? `, ${pct(r.throughputRelErr)}` : ''}`
          })`
        : '–',
      ...(cluster
        ? r.cluster
          ? [
              r.cluster.perReplica,
              fmt(r.cluster.imbalance, 2),
              `${fmtMs(r.cluster.addedMs)}/${fmtMs(r.cluster.addedAtLoadMs)}`,
              `${r.cluster.prediction} [${r.cluster.regime}]`,
            ]
          : ['–', '–', '–', '–']
        : []),
      mark,
    ])
  }
  return `${t.toString()}\nlatencies in ms; ★ recommended, P Pareto front (throughput vs p99), ! errors; ± = half-width of the 95% interval over the point's windows; predicted = queueing model (src/queueing) with relative errors of mean and req/s; a calibration point is the model's input, not a forecast${
    cluster
      ? "; cluster: requests each replica answered (its own metrics), imbalance = max/mean, lb +ms idle/load = balancer hop median extra latency (GET /healthz, balancer minus direct: 200 one at a time before the point / a pair every 25 ms during its load), cluster model = the policy's queueing model (src/queueing/cluster.ts)"
      : ''
  }`
}

export function renderRecommendation(rec: Recommendation | null | undefined): string {
  if (!rec) return 'No recommendation: no configuration met the objective without errors.'
  return [
    `Recommendation: ${rec.reason}`,
    `  ${fmt(rec.throughput, 0)} req/s, ${fmt(rec.inferencesPerSec, 0)} inferences/s, p99 ${fmtMs(rec.p99Ms)} ms${rec.caveat ? `  (${rec.caveat})` : ''}`,
    `  serve it with:  ${rec.serveCommand}`,
    '  TF Serving batching_parameters.txt:',
    ...rec.tfServing.batchingParametersTxt
      .trimEnd()
      .split('\n')
      .map((l) => `    ${l}`),
    `  TF Serving flags: ${rec.tfServing.flags.join(' ')}`,
    ...(rec.cluster ? clusterLines(rec.cluster) : []),
  ].join('\n')
}

const indented = (text: string): string[] => text.split('\n').map((l) => `    ${l}`)

function clusterLines(c: NonNullable<Recommendation['cluster']>): string[] {
  return [
    `  replicas: ${c.replicas}, policy ${c.lb} (measured behind ${c.balancer}); one serve command per replica, ports ${c.backends.map((b) => b.split(':').pop()).join(', ')}`,
    '  nginx upstream:',
    ...indented(c.nginxUpstream),
    '  HAProxy backend:',
    ...indented(c.haproxyBackend),
  ]
}
