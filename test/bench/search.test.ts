import {test} from 'node:test'
import assert from 'node:assert/strict'
import {AdaptiveSearch, bestOf, nextLoad, nextStart, type LoadResult} from '../../src/bench/adaptive.ts'
import {paretoFront} from '../../src/bench/pareto.ts'
import {parseList, pointId} from '../../src/bench/options.ts'
import {BodySource, splitSample} from '../../src/bench/body-source.ts'
import {parsePrometheus, breakdown} from '../../src/bench/scrape-metrics.ts'

const LOADS = [1, 2, 4, 8, 16, 32, 64, 128]
/** A saturating curve: X = min(N, 5)·100, latency N·10/min(N,5). */
const measure = (n: number): LoadResult => ({
  load: n,
  throughput: Math.min(n, 5) * 100,
  meanMs: (n * 10) / Math.min(n, 5),
  p99Ms: (n * 20) / Math.min(n, 5),
  clean: true,
})
/** USL curve X(N) = λN / (1 + σ(N−1) + κN(N−1)) with its peak at N = √((1−σ)/κ); p99 = 2·N/X (Little). */
const usl = (lambda: number, sigma: number, nPeak: number) => {
  const kappa = (1 - sigma) / (nPeak * nPeak)
  return (n: number): LoadResult => {
    const x = (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    return {load: n, throughput: x, meanMs: (1000 * n) / x, p99Ms: (2000 * n) / x, clean: true}
  }
}
/** A batching server: X = X_max·N/(N + k), p99 = 3·N/X (ms). */
const batching =
  (xMax: number, k: number) =>
  (n: number): LoadResult => {
    const x = (xMax * n) / (n + k)
    return {load: n, throughput: x, meanMs: (1000 * n) / x, p99Ms: (3000 * n) / x, clean: true}
  }

function drive(o: Parameters<typeof nextLoad>[2], f: (n: number) => LoadResult = measure, loads = LOADS): number[] {
  const got: LoadResult[] = []
  for (let i = 0; i < 20; i++) {
    const n = nextLoad(loads, got, o)
    if (n === undefined) break
    assert.ok(!got.some((g) => g.load === n), `level ${n} asked twice`)
    got.push(f(n))
  }
  return got.map((g) => g.load)
}

/** The engine's loop over groups (src/bench/run.ts), on synthetic curves: points measured, and the best. */
function searchGroups(groups: Array<(n: number) => LoadResult>, slo?: number, loads = LOADS) {
  const search = new AdaptiveSearch({sloP99Ms: slo})
  const all: LoadResult[] = []
  const seqs: number[][] = []
  for (const f of groups) {
    const results: LoadResult[] = []
    for (let n = search.next(loads, results); n !== undefined; n = search.next(loads, results)) {
      assert.ok(!results.some((r) => r.load === n), `level ${n} asked twice`)
      results.push(f(n))
    }
    search.endGroup(loads, results, true)
    all.push(...results)
    seqs.push(results.map((r) => r.load))
  }
  const gridBest = bestOf(
    groups.flatMap((f) => loads.map(f)),
    slo,
  )!
  return {points: all.length, seqs, best: bestOf(all, slo)!, gridBest}
}

test('first group: climbs ×4, stops once a step gains < 5%, refines between the best and its better neighbour', () => {
  // 1 → 4 → 16 gains, 16 → 64 gains nothing: stop. The best (16) and 64 are a flat pair that could
  // straddle a peak: refine at their midpoint; 4 is clearly lower (the rising side), so not there.
  assert.deepEqual(drive({knee: () => 5}), [1, 4, 16, 64, 32])
  assert.deepEqual(drive({refine: 0}), [1, 4, 16, 64])
  // A retrograde curve (USL, peak at 8): 16 no better than 4, the refinement goes to 8 between them.
  assert.deepEqual(drive({}, usl(1000, 0.05, 8)), [1, 4, 16, 8])
  // With a forecast at the refinement level: measured only if it forecasts ≥ 5% over the best (500 at
  // 16 here): 520 is within the margin, 530 beyond it; no forecast (undefined) leaves the rule as it was.
  assert.deepEqual(drive({knee: () => 5, forecast: () => 520}), [1, 4, 16, 64])
  assert.deepEqual(drive({knee: () => 5, forecast: () => 530}), [1, 4, 16, 64, 32])
  assert.deepEqual(drive({knee: () => 5, forecast: () => undefined}), [1, 4, 16, 64, 32])
  // The upper neighbour broke the SLO with < 5% more throughput: the plateau, no refinement.
  assert.deepEqual(drive({sloP99Ms: 50}, batching(3200, 0.5)), [1, 4, 16, 64])
  // It broke the SLO with a real gain: a level between may meet it with more throughput.
  assert.deepEqual(drive({sloP99Ms: 50}, batching(8000, 24), [1, 2, 4, 8, 16, 32, 64, 128]), [1, 4, 16, 64, 128])
})

test('first group: nothing is measured above a level that broke the SLO', () => {
  // p99 = 20 ms up to N = 5, then 4·N: 16 → 64 ms breaks a 50 ms SLO, and gained ≥ 5% over 4: the
  // refinement goes between them.
  assert.deepEqual(drive({sloP99Ms: 50}), [1, 4, 16, 8])
  // c = 1 already breaks it: nothing can meet it higher up.
  assert.deepEqual(drive({sloP99Ms: 10}), [1])
})

test('USL curve with a known knee: the optimum within 5% in at most 6 of 8 levels', () => {
  for (const nPeak of [3, 8, 20, 45, 100]) {
    for (const sigma of [0.02, 0.1, 0.3]) {
      const f = usl(1000, sigma, nPeak)
      const seq = drive({knee: undefined}, f)
      const gridBest = Math.max(...LOADS.map((n) => f(n).throughput))
      const best = Math.max(...seq.map((n) => f(n).throughput))
      assert.ok(seq.length <= 6, `peak ${nPeak}, σ ${sigma}: ${seq.length} points (${seq.join(', ')})`)
      assert.ok(best >= 0.95 * gridBest, `peak ${nPeak}, σ ${sigma}: best ${best.toFixed(0)} < 95% of ${gridBest.toFixed(0)} (${seq.join(', ')})`)
    }
  }
})

test('later group: starts at the hint, walks to a neighbour, stops at the first that gains < 5%', () => {
  // Saturated at 8: 16 gains nothing.
  assert.deepEqual(drive({hintIndex: 3}), [8, 16])
  // Below the knee: up while it gains.
  assert.deepEqual(drive({hintIndex: 0}), [1, 2, 4, 8, 16])
  // The start breaks the SLO: down until a level meets it, then on while it gains.
  assert.deepEqual(drive({hintIndex: 6, sloP99Ms: 50}), [64, 32, 16, 8, 4])
  // The top of the list: its lower neighbour only.
  assert.deepEqual(drive({hintIndex: 7}), [128, 64])
  // ...unless the group before was still rising at the top: then the top alone, if it meets the SLO.
  assert.deepEqual(drive({hintIndex: 7, risingAtTop: true}), [128])
  assert.deepEqual(drive({hintIndex: 7, risingAtTop: true, sloP99Ms: 50}), [128, 64, 32, 16, 8, 4])
  // Never above a level that broke the SLO.
  assert.deepEqual(drive({hintIndex: 4, sloP99Ms: 50}), [16, 8, 4])
})

test('next start: the best level, raised toward the load the SLO allows (closed loop), never past a break', () => {
  const rs = [1, 4, 16, 8].map(batching(3200, 0.5))
  // Best 16 (p99 ≈ 15.5 ms): the SLO of 50 ms predicts ≈ 52 → start at 32.
  assert.equal(nextStart(LOADS, rs, {sloP99Ms: 50, closedLoop: true}), 5)
  assert.equal(nextStart(LOADS, rs, {sloP99Ms: 50, closedLoop: false}), 4)
  assert.equal(nextStart(LOADS, rs, {}), 4)
  // 32 measured and broke the SLO: no higher than 16.
  const broke = [...rs, {load: 32, throughput: 3200, p99Ms: 60, meanMs: 10, clean: true}]
  assert.equal(nextStart(LOADS, broke, {sloP99Ms: 50, closedLoop: true}), 4)
  // Nothing within the SLO: the previous start stays.
  assert.equal(nextStart(LOADS, [{load: 1, throughput: 10, p99Ms: 99, meanMs: 9, clean: true}], {sloP99Ms: 50, closedLoop: true}, 2), 2)
})

test('three server configurations (no batching, batching ×8, ×32), SLO 50 ms: ≤ 9 of 24 points, best within 5%', () => {
  for (const [k1, label] of [
    [0.5, 'sharp knee'],
    [1, 'soft knee'],
  ] as const) {
    const r = searchGroups([batching(3200, k1), batching(8000, 24), batching(9000, 30)], 50)
    assert.ok(r.points <= 9, `${label}: ${r.points} points: ${JSON.stringify(r.seqs)}`)
    assert.ok(
      r.best.throughput >= 0.95 * r.gridBest.throughput,
      `${label}: best ${r.best.throughput.toFixed(0)} vs grid ${r.gridBest.throughput.toFixed(0)}: ${JSON.stringify(r.seqs)}`,
    )
  }
})

test('a later configuration that is worse costs two points', () => {
  const worse = (n: number) => ({...batching(8000, 24)(n), throughput: 0.6 * batching(8000, 24)(n).throughput})
  const r = searchGroups([batching(8000, 24), worse], 50)
  assert.equal(r.seqs[1]!.length, 2, JSON.stringify(r.seqs))
  assert.ok(r.best.throughput >= 0.95 * r.gridBest.throughput)
})

test('USL configurations, no SLO: the grid best within 5%, at most 40% of the points', () => {
  const groups = [usl(1000, 0.05, 8), usl(1400, 0.05, 12), usl(1500, 0.03, 30)]
  const r = searchGroups(groups)
  assert.ok(r.points <= 0.4 * groups.length * LOADS.length, `${r.points} points: ${JSON.stringify(r.seqs)}`)
  assert.ok(
    r.best.throughput >= 0.95 * r.gridBest.throughput,
    `best ${r.best.throughput.toFixed(0)} vs ${r.gridBest.throughput.toFixed(0)}: ${JSON.stringify(r.seqs)}`,
  )
})

test('Pareto front keeps only undominated (throughput up, p99 down) points', () => {
  const f = paretoFront([
    {id: 'a', throughput: 100, p99Ms: 5},
    {id: 'b', throughput: 200, p99Ms: 10},
    {id: 'c', throughput: 150, p99Ms: 12}, // dominated by b
    {id: 'd', throughput: 300, p99Ms: 40},
    {id: 'e', throughput: 90, p99Ms: 6}, // dominated by a
  ])
  assert.deepEqual(
    f.map((p) => p.id),
    ['a', 'b', 'd'],
  )
})

test('lists and ranges parse; bad values are usage errors', () => {
  assert.deepEqual(parseList('1:64:x2', 'c'), [1, 2, 4, 8, 16, 32, 64])
  assert.deepEqual(parseList('10:30:10,5', 'r'), [10, 20, 30, 5])
  assert.throws(() => parseList('a,b', 'c'), /not a list of numbers/)
  assert.throws(() => parseList('0', 'concurrency', {min: 1}), /can not be less than 1/)
  assert.equal(
    pointId({model: 'm', server: {maxBatchSize: 8}, client: {mode: 'closed', concurrency: 4, clientBatch: 1, repeatRatio: 0}}),
    'model=m,maxBatch=8,c=4,batch=1,repeat=0',
  )
})

test('repeat ratio: the fraction of byte-identical repeats is controlled, fresh bodies never repeat', () => {
  const samples = [splitSample('[0.25,1]', true), splitSample('[0.5,2]', true)]
  const src = new BodySource(samples, {clientBatch: 2, repeatRatio: 0.3, seed: 3})
  const seen = new Set<string>()
  let repeats = 0
  for (let i = 0; i < 5000; i++) {
    const b = src.next()
    if (seen.has(b)) repeats++
    seen.add(b)
    assert.equal((JSON.parse(b) as {instances: unknown[]}).instances.length, 2)
  }
  assert.ok(Math.abs(repeats / 5000 - 0.3) < 0.03, `repeat fraction ${repeats / 5000}`)
  assert.equal(repeats, src.repeats)
})

test('metrics deltas give queue time, batch size, hit ratio', () => {
  const a = {
    at: 0,
    samples: parsePrometheus(
      'tfsopt_queue_latency_seconds_sum 1\ntfsopt_queue_latency_seconds_count 10\ntfsopt_batch_size_sum 10\ntfsopt_batch_size_count 10\ntfsopt_cache_hits_total 0\ntfsopt_cache_misses_total 0\n',
    ),
  }
  const b = {
    at: 2000,
    samples: parsePrometheus(
      '# HELP x\ntfsopt_queue_latency_seconds_sum 1.5\ntfsopt_queue_latency_seconds_count 110\ntfsopt_batch_size_sum 410\ntfsopt_batch_size_count 110\ntfsopt_cache_hits_total{model="m"} 30\ntfsopt_cache_misses_total{model="m"} 70\n',
    ),
  }
  const d = breakdown(a, b)!
  assert.ok(Math.abs(d.queueMs! - 5) < 1e-9)
  assert.ok(Math.abs(d.batchSize! - 4) < 1e-9)
  assert.ok(Math.abs(d.cacheHitRatio! - 0.3) < 1e-9)
})
