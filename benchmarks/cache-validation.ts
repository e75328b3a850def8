/**
 * The cache model against measurement: one lone closed-loop client (no queueing, where the mixture is
 * meant to hold), the built-in server with a response cache, and repeat ratios 0 … 1 so the hit ratio H
 * spans its range. The server's /metrics give H; bench fits t_hit and t_miss on the other repeat ratios
 * (leave-one-out, src/bench/models.ts cacheRows) and predicts each point's mean latency with
 * H·t_hit + (1−H)·t_miss, beside the seed article's L(1−H) + 1/H.
 *   node --import tsx benchmarks/cache-validation.ts [MODEL] [--cache-size N] [--ratios 0,0.25,0.5,0.75,1] [--window S]
 */
import {loadavg} from 'node:os'
import {BenchEngine} from '../src/bench/run.ts'
import type {BenchOptions} from '../src/bench/options.ts'
import type {PredictionRow} from '../src/queueing/index.ts'

const argv = process.argv.slice(2)
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1]! : d)
const model = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'))
const o: BenchOptions = {
  model,
  modelName: 'mnist',
  concurrency: [Number(opt('--concurrency', '1'))],
  rate: [],
  arrival: 'poisson',
  clientBatch: [1],
  repeatRatio: opt('--ratios', '0,0.25,0.5,0.75,1').split(',').map(Number),
  protocol: ['tfs-rest'],
  server: {workers: [], intraOpThreads: [], maxBatchSize: [], batchTimeoutMicros: [], cacheSize: [Number(opt('--cache-size', '10000'))]},
  serverFlags: [],
  warmupS: 1,
  windowS: Number(opt('--window', '1')),
  minWindows: 3,
  maxWindows: 6,
  stabilityPct: 10,
  search: 'grid',
  repeat: 1,
  failFast: false,
  seed: 1,
  timeoutS: 30,
}
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
const run = await new BenchEngine(o).run()
const ms = (s: number | null | undefined) => (s === null || s === undefined ? '–' : (s * 1000).toFixed(3))
const pc = (r: number | null | undefined) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`)
console.log('repeat  H      req/s   measured ms  server ms  | H·t_hit+(1−H)·t_miss (err) | article L(1−H)+1/H (err)   | t_hit / t_miss (fitted on the others)')
for (const p of run.points) {
  const s = p.server as {cacheHitRatio?: number; requestMs?: number} | undefined
  const rows = (p.queueing as PredictionRow[] | undefined) ?? []
  const mix = rows.find((r) => r.model.startsWith('cache mixture'))
  const art = rows.find((r) => r.model.startsWith("seed article 000's cache"))
  const fit = /t_hit = ([\d.]+) ms, t_miss = ([\d.]+) ms/.exec(mix?.note ?? '')
  console.log(
    `${String(p.config.client.repeatRatio).padEnd(6)}  ${(s?.cacheHitRatio ?? NaN).toFixed(3)}  ${p.throughput.toFixed(0).padStart(5)}  ${p.latency.meanMs.toFixed(3).padStart(11)}  ${(s?.requestMs ?? NaN).toFixed(3).padStart(9)}  | ${`${ms(mix?.predicted)} (${pc(mix?.relErr)})`.padEnd(26)} | ${`${art?.predicted == null ? '∞ (H = 0)' : `${art.predicted.toFixed(3)} s`} (${pc(art?.relErr)})`.padEnd(26)} | ${fit ? `${fit[1]} / ${fit[2]} ms` : '–'}${p.stable ? '' : ' (unstable)'}`,
  )
}
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
