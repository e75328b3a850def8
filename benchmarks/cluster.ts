/**
 * Scale-out targets of issue #15 (not a timed test): `tfsopt bench --replicas … --lb …` through a real
 * nginx, with sleep-bound replicas (--inject-latency-ms, no CPU) so the balancer, not the 2 shared cores,
 * decides the result.
 *   A. 20 ms replicas, --workers 1, max batch 1, closed loop c=8: throughput of 2 and 4 replicas ÷ 1;
 *      goals ≥ 1.8× and ≥ 3.4×
 *   B. 4 replicas, exponential service (--inject-latency-dist exp, mean 20 ms), open loop Poisson at
 *      ρ = 0.8 (160 req/s): p99 per policy beside its cluster model (src/queueing/cluster.ts); goals: the
 *      issue's ordering round-robin ≥ least-conn ≥ random-two ≥ central queue (central: model only; the
 *      exact chains put least-conn below random-two, so both orderings are checked), each within 20% of
 *      its model
 *   C. nginx's added latency at low load (status GETs at concurrency 1, balancer minus direct, median of
 *      each point's measurement); goal ≤ 0.2 ms
 *      (with each point's spread of per-window p99s: at ρ ≈ 0.8 a p99 from a few thousand requests is
 *      itself uncertain by tens of percent)
 * Usage: node --import tsx benchmarks/cluster.ts [--duration 2] [--windows 3] [--only ABC]
 *        [--policies round-robin,least-conn,random-two]
 */
import {spawnSync} from 'node:child_process'
import {loadavg} from 'node:os'
import {predictCluster} from '../src/queueing/cluster.js'
import type {BenchRun} from '../src/results/bench-run.js'

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : dflt
}
const DURATION = arg('duration', '2')
const WINDOWS = arg('windows', '3')
const ONLY = arg('only', 'ABC')
const POLICIES = arg('policies', 'round-robin,least-conn,random-two')
const SERVICE_MS = 20

function bench(args: string[]): BenchRun {
  const full = ['--import', 'tsx', '--no-warnings', 'bin/dev.js', 'bench', '--workers', '1', '--max-batch-size', '1', '--duration', DURATION]
  full.push('--warmup', '1', '--windows', WINDOWS, '--max-windows', WINDOWS, '--json', ...args)
  console.error(`$ node ${full.slice(3).join(' ')}`)
  const r = spawnSync(process.execPath, full, {encoding: 'utf8', timeout: 300_000})
  if (r.status !== 0) throw new Error(`bench failed (${r.status}): ${r.stderr.slice(-2000)}`)
  return JSON.parse(r.stdout) as BenchRun
}

const added: number[] = []
const note = (run: BenchRun) => {
  for (const p of run.points) if (p.cluster?.addedLatencyMs != null) added.push(p.cluster.addedLatencyMs)
}
console.log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)

if (ONLY.includes('A')) {
  const run = bench(['--replicas', '1,2,4', '--lb', 'round-robin', '--concurrency', '8', '--server-flags', `--inject-latency-ms ${SERVICE_MS}`])
  note(run)
  const x = new Map(run.points.map((p) => [p.cluster?.replicas ?? 0, p]))
  const base = x.get(1)?.throughput ?? Number.NaN
  console.log(`A. closed loop c=8, ${SERVICE_MS} ms sleep-bound replicas, --workers 1, max batch 1, nginx round-robin`)
  for (const [n, goal] of [
    [1, 1],
    [2, 1.8],
    [4, 3.4],
  ] as const) {
    const p = x.get(n)
    const ratio = (p?.throughput ?? Number.NaN) / base
    const c = p?.cluster
    console.log(
      `  ${n} replica(s): ${p?.throughput.toFixed(1)} req/s, ×${ratio.toFixed(2)} of 1 (goal ≥ ${goal}: ${ratio >= goal ? 'met' : 'NOT met'}), ` +
        `per-replica ${c?.perReplicaRequests.join('/')}, imbalance ${c?.imbalance?.toFixed(3)}, p99 ${p?.latency.p99Ms.toFixed(1)} ms`,
    )
  }
}

if (ONLY.includes('B')) {
  const rate = (0.8 * 4 * 1000) / SERVICE_MS
  const run = bench([
    '--replicas',
    '4',
    '--lb',
    POLICIES,
    '--rate',
    String(rate),
    '--arrival',
    'poisson',
    '--server-flags',
    `--inject-latency-ms ${SERVICE_MS} --inject-latency-dist exp`,
  ])
  note(run)
  console.log(`B. open loop Poisson ${rate}/s (ρ = 0.8 at ${SERVICE_MS} ms), 4 replicas, exponential service, nginx`)
  const p99s: number[] = []
  for (const p of run.points) {
    const c = p.cluster
    const q = c?.prediction
    p99s.push(p.latency.p99Ms)
    const within = q?.relErr != null && Math.abs(q.relErr) <= 0.2
    console.log(
      `  ${c?.lb}: measured p99 ${p.latency.p99Ms.toFixed(1)} ms, model ${q?.predicted.toFixed(1)} ms (${q?.method}; measured service ${c?.serviceMs?.toFixed(1)} ms), ` +
        `rel. err ${q?.relErr != null ? `${(q.relErr * 100).toFixed(0)}%` : '–'} (${within ? 'within 20%' : 'NOT within 20%'}), ` +
        `window p99s ${p.spread?.p99Ms ? `${p.spread.p99Ms.min.toFixed(0)}–${p.spread.p99Ms.max.toFixed(0)} ms` : '–'}, ` +
        `imbalance ${c?.imbalance?.toFixed(3)}, errors ${p.errors.total}${p.stable ? '' : ', unstable'}`,
    )
  }
  const central = predictCluster('central', {replicas: 4, arrivalRate: rate, serviceTime: SERVICE_MS / 1000, serviceScv: 1}).responseQuantile(0.99) * 1000
  console.log(`  central queue (M/M/4, model only, nominal ${SERVICE_MS} ms): p99 ${central.toFixed(1)} ms`)
  const [rr, lc, r2] = p99s as [number, number, number]
  const yes = (b: boolean) => (b ? 'met' : 'NOT met')
  if (p99s.length < 3) console.log('  (orderings need all three policies)')
  else {
    // The issue asked for rr ≥ least-conn ≥ random-two; the exact chains order JSQ (least-conn) below power of two for finite N.
    console.log(`  issue's ordering round-robin ≥ least-conn ≥ random-two ≥ central: ${yes(rr >= lc && lc >= r2 && r2 >= central)}`)
    console.log(`  theory's ordering round-robin ≥ random-two ≥ least-conn ≥ central (docs/QUEUEING.md): ${yes(rr >= r2 && r2 >= lc && lc >= central)}`)
  }
}

if (ONLY.includes('C') && added.length) {
  const sorted = [...added].sort((a, b) => a - b)
  const med = sorted[Math.floor(sorted.length / 2)]!
  console.log(
    `C. nginx added latency (per point: median of 200 status GETs at c=1, via minus direct): ${sorted.map((v) => v.toFixed(3)).join(', ')} ms; ` +
      `median ${med.toFixed(3)} ms (goal ≤ 0.2: ${med <= 0.2 ? 'met' : 'NOT met'})`,
  )
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
