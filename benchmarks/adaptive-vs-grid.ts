/**
 * Adaptive search against the full grid on the default fixture: best throughput meeting the SLO and the
 * time spent measuring (warm-up + windows) by each.
 *   node --import tsx benchmarks/adaptive-vs-grid.ts [--slo-p99 MS]
 */
import {loadavg} from 'node:os'
import {BenchEngine} from '../src/bench/run.ts'
import type {BenchOptions} from '../src/bench/options.ts'
import type {PointResult} from '../src/results/bench-run.ts'

const argv = process.argv.slice(2)
const slo = argv.includes('--slo-p99') ? Number(argv[argv.indexOf('--slo-p99') + 1]) : 50
const base: BenchOptions = {
  modelName: 'mnist',
  concurrency: [1, 2, 4, 8, 16, 32, 64, 128],
  rate: [],
  arrival: 'poisson',
  clientBatch: [1],
  repeatRatio: [0],
  protocol: ['tfs-rest'],
  server: {workers: [], intraOpThreads: [], maxBatchSize: [1, 8, 32], batchTimeoutMicros: [], cacheSize: []},
  serverFlags: [],
  warmupS: 1,
  windowS: 1,
  minWindows: 3,
  maxWindows: 6,
  stabilityPct: 10,
  search: 'grid',
  sloP99Ms: slo,
  repeat: 1,
  failFast: false,
  seed: 1,
  timeoutS: 30,
}
const cost = (ps: PointResult[]) => ps.reduce((s, p) => s + (p.measuredS as number) + base.warmupS, 0)
// "Best" two ways: the recommendation (which prefers stable points), and the highest inferences/s among
// all points with no errors and p99 within the SLO, stable or not (what the search itself found).
const summary = async (search: 'grid' | 'adaptive') => {
  const t0 = Date.now()
  const run = await new BenchEngine({...base, search}).run()
  const wallS = (Date.now() - t0) / 1000
  const rec = run.recommendation as {pointId: string; inferencesPerSec: number; p99Ms: number} | null
  const ok = run.points.filter((p) => !p.failed && p.errors.total === 0 && p.latency.p99Ms <= slo)
  const top = ok.reduce<PointResult | undefined>((a, p) => (!a || p.inferencesPerSec > a.inferencesPerSec ? p : a), undefined)
  console.log(
    `${search}: ${run.points.map((p) => `${p.id.replace(/^model=mnist,|,batch=1,repeat=0$/g, '')} ${p.inferencesPerSec.toFixed(0)}/s p99 ${p.latency.p99Ms.toFixed(1)}${p.stable ? '' : ' u'}`).join('; ')}`,
  )
  return {search, points: run.points.length, measuringS: cost(run.points), wallS, best: rec?.inferencesPerSec ?? 0, id: rec?.pointId, p99: rec?.p99Ms, top}
}
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
const grid = await summary('grid')
const adaptive = await summary('adaptive')
for (const r of [grid, adaptive]) {
  console.log(
    `${r.search.padEnd(8)} ${String(r.points).padStart(3)} points  ${r.measuringS.toFixed(1).padStart(6)} s measuring (warm-up + windows; ${r.wallS.toFixed(0)} s wall)  recommended ${r.best.toFixed(0)} inf/s (p99 ${r.p99?.toFixed(1)} ms) at ${r.id}`,
  )
  console.log(
    `${''.padEnd(8)} best within the SLO, stable or not: ${r.top?.inferencesPerSec.toFixed(0)} inf/s (p99 ${r.top?.latency.p99Ms.toFixed(1)} ms) at ${r.top?.id}`,
  )
}
console.log(
  `adaptive/grid: recommended throughput ${((adaptive.best / grid.best) * 100).toFixed(1)}%, best-within-SLO throughput ${(((adaptive.top?.inferencesPerSec ?? 0) / (grid.top?.inferencesPerSec ?? 1)) * 100).toFixed(1)}%, measuring time ${((adaptive.measuringS / grid.measuringS) * 100).toFixed(1)}%`,
)
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
