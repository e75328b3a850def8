/**
 * `tfsopt bench --models N`: one bench point spreads its requests over N distinct model names drawn from
 * a Zipf(s) or uniform popularity, against a server with a memory budget that holds only some of them.
 * The pure parts live here (popularity, the draw, the per-point summary with Che's prediction); the
 * runner that starts the server and sends the requests is many-models-run.ts.
 *
 * A request is a cold start when the server says it waited for an on-demand load (the response header
 * x-tfsopt-cold-start: 1, set by `tfsopt serve`); the hit ratio is the share of requests that did not.
 */
import {cheLru, zipfPopularity} from '../queueing/che.js'
import type {Rng} from '../stats/prng.js'

export type Popularity = 'zipf' | 'uniform'

/** Request shares over the N model names, most popular first. Uniform is Zipf with s = 0. */
export function popularityShares(kind: Popularity, n: number, s: number): number[] {
  return zipfPopularity(n, kind === 'uniform' ? 0 : s)
}

/** Inverse-CDF draw of an index from `shares` (which sum to 1). */
export function drawIndex(shares: number[], rand: Rng): number {
  let u = rand()
  for (let i = 0; i < shares.length; i++) if ((u -= shares[i]!) <= 0) return i
  return shares.length - 1
}

export interface ManyModelsSample {
  ms: number
  status: number
  cold: boolean
}

export interface ManyModelsPoint {
  concurrency: number
  seconds: number
  requests: number
  hits: number
  coldStarts: number
  failed: number
  /** Measured: (requests − cold starts) / requests, over the requests that succeeded. */
  hitRatio: number
  /** Che's approximation for LRU holding `fit` of the models under this popularity. */
  cheHitRatio: number
  steadyP50Ms: number
  steadyP99Ms: number
  coldP50Ms: number
  coldP99Ms: number
  throughput: number
}

/** Nearest-rank percentile (NaN for no samples). */
export function percentile(xs: number[], f: number): number {
  if (!xs.length) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(f * s.length) - 1))]!
}

/** One point's figures from its samples; failed requests count in `failed`, not as hits or colds. */
export function summarisePoint(samples: ManyModelsSample[], shares: number[], fit: number, concurrency: number, seconds: number): ManyModelsPoint {
  const ok = samples.filter((x) => x.status === 200)
  const colds = ok.filter((x) => x.cold).map((x) => x.ms)
  const hits = ok.filter((x) => !x.cold).map((x) => x.ms)
  return {
    concurrency,
    seconds,
    requests: samples.length,
    hits: hits.length,
    coldStarts: colds.length,
    failed: samples.length - ok.length,
    hitRatio: ok.length ? hits.length / ok.length : Number.NaN,
    cheHitRatio: cheLru(shares, fit).hitRatio,
    steadyP50Ms: percentile(hits, 0.5),
    steadyP99Ms: percentile(hits, 0.99),
    coldP50Ms: percentile(colds, 0.5),
    coldP99Ms: percentile(colds, 0.99),
    throughput: seconds > 0 ? samples.length / seconds : Number.NaN,
  }
}

export interface ManyModelsRun {
  schema: 'tfsopt-bench-many-models/1'
  startedAt: string
  target: {url: string; builtIn: boolean}
  model?: string
  models: string[]
  popularity: Popularity
  zipfS: number
  /** How many models the budget holds (the capacity C of Che's approximation). */
  fit: number
  /** Built-in server: one model's measured memory and the budget given to the server. */
  oneModelBytes?: number
  budgetBytes?: number
  loadAverage: number[]
  points: ManyModelsPoint[]
}

const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—')

const HEAD = ['concurrency', 'requests', 'req/s', 'failed', 'hit ratio', 'Che hit ratio', 'steady p50 ms', 'steady p99 ms', 'cold p50 ms', 'cold p99 ms']
const cells = (p: ManyModelsPoint) => [
  String(p.concurrency),
  String(p.requests),
  f(p.throughput),
  String(p.failed),
  f(p.hitRatio, 3),
  f(p.cheHitRatio, 3),
  f(p.steadyP50Ms, 2),
  f(p.steadyP99Ms, 2),
  f(p.coldP50Ms),
  f(p.coldP99Ms),
]

const describe = (r: ManyModelsRun) =>
  `${r.models.length} models, ${r.popularity === 'zipf' ? `Zipf s = ${r.zipfS}` : 'uniform'} popularity, a budget for ${r.fit}` +
  (r.budgetBytes !== undefined ? ` (${r.budgetBytes} bytes; one model measured ${r.oneModelBytes} bytes)` : '')

export function renderManyModelsTable(r: ManyModelsRun): string {
  const rows = [HEAD, ...r.points.map(cells)]
  const widths = HEAD.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const line = (row: string[]) => row.map((c, i) => c.padStart(widths[i]!)).join('  ')
  return [`${describe(r)}, target ${r.target.url}`, line(HEAD), ...r.points.map((p) => line(cells(p)))].join('\n')
}

export function renderManyModelsMarkdown(r: ManyModelsRun): string {
  return [
    `# tfsopt bench --models: ${describe(r)}`,
    '',
    `Target ${r.target.url}, ${r.startedAt}, load average ${r.loadAverage.map((x) => x.toFixed(2)).join(' ')}.`,
    '',
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '--:').join('|')}|`,
    ...r.points.map((p) => `| ${cells(p).join(' | ')} |`),
    '',
    "Hit ratio: requests that did not wait for a load (the server's x-tfsopt-cold-start header). " +
      "Che's approximation assumes independent requests (one client); with more concurrency requests that share one load all count as cold.",
    '',
  ].join('\n')
}
