/**
 * Adaptive search against the full grid on the default fixture: best throughput meeting the SLO and the
 * time spent measuring (warm-up + windows) by each.
 *   node --import tsx bench/adaptive-vs-grid.ts [--slo-p99 MS]
 */
import {BenchEngine} from '../src/bench/run.ts'
import type {BenchOptions} from '../src/bench/options.ts'
import type {PointResult} from '../src/bench/result.ts'

const argv = process.argv.slice(2)
const slo = argv.includes('--slo-p99') ? Number(argv[argv.indexOf('--slo-p99') + 1]) : 50
const base: BenchOptions = {
  modelName: 'mnist', concurrency: [1, 2, 4, 8, 16, 32, 64, 128], rate: [], arrival: 'poisson', clientBatch: [1], repeatRatio: [0],
  server: {workers: [], intraOpThreads: [], maxBatchSize: [1, 8, 32], batchTimeoutMicros: [], cacheSize: []}, serverFlags: [],
  warmupS: 1, windowS: 1, minWindows: 3, maxWindows: 6, stabilityPct: 10, search: 'grid', sloP99Ms: slo, repeat: 1, failFast: false, seed: 1, timeoutS: 30,
}
const cost = (ps: PointResult[]) => ps.reduce((s, p) => s + (p.measuredS as number) + base.warmupS, 0)
const summary = async (search: 'grid' | 'adaptive') => {
  const run = await new BenchEngine({...base, search}).run()
  const rec = run.recommendation as {pointId: string; inferencesPerSec: number; p99Ms: number} | null
  return {search, points: run.points.length, measuringS: cost(run.points), best: rec?.inferencesPerSec ?? 0, id: rec?.pointId, p99: rec?.p99Ms}
}
const grid = await summary('grid')
const adaptive = await summary('adaptive')
for (const r of [grid, adaptive]) console.log(`${r.search.padEnd(8)} ${String(r.points).padStart(3)} points  ${r.measuringS.toFixed(1).padStart(6)} s measuring  best ${r.best.toFixed(0)} inf/s (p99 ${r.p99?.toFixed(1)} ms) at ${r.id}`)
console.log(`adaptive/grid: throughput ${((adaptive.best / grid.best) * 100).toFixed(1)}%, time ${((adaptive.measuringS / grid.measuringS) * 100).toFixed(1)}%`)
