import {test} from 'node:test'
import assert from 'node:assert/strict'
import {nextLoad, type LoadResult} from '../../src/bench/adaptive.ts'
import {paretoFront} from '../../src/bench/pareto.ts'
import {parseList, pointId} from '../../src/bench/options.ts'
import {BodySource, splitSample} from '../../src/bench/body-source.ts'
import {parsePrometheus, breakdown} from '../../src/bench/scrape-metrics.ts'

const LOADS = [1, 2, 4, 8, 16, 32, 64, 128]
/** A saturating curve: X = min(N, 5)·100, latency N·10/min(N,5). */
const measure = (n: number): LoadResult => ({load: n, throughput: Math.min(n, 5) * 100, meanMs: (n * 10) / Math.min(n, 5), p99Ms: (n * 20) / Math.min(n, 5), clean: true})

function drive(o: Parameters<typeof nextLoad>[2]): number[] {
  const got: LoadResult[] = []
  for (let i = 0; i < 20; i++) {
    const n = nextLoad(LOADS, got, o)
    if (n === undefined) break
    got.push(measure(n))
  }
  return got.map((g) => g.load)
}

test('adaptive climbs in double steps, stops once gains < 5% with no SLO, refines near the knee', () => {
  const seq = drive({refine: 1, knee: () => 5})
  // 4 → 16 still gains 25%, 16 → 64 gains nothing: stop; then one refinement point.
  assert.deepEqual(seq, [1, 4, 16, 64, 8]) // 8: between 4 and 16, nearest the knee at 5 on a log scale
})

test('with an SLO the climb goes on while the SLO holds, and stops once broken with no gain', () => {
  const seq = drive({sloP99Ms: 1000, refine: 0})
  assert.deepEqual(seq, [1, 4, 16, 64, 128])
  const tight = drive({sloP99Ms: 50, refine: 0})
  assert.deepEqual(tight, [1, 4, 16, 64])
})

test('a hint starts the climb at the previous best and steps by one', () => {
  assert.deepEqual(drive({hintIndex: 3}), [8, 16])
})

test('Pareto front keeps only undominated (throughput up, p99 down) points', () => {
  const f = paretoFront([
    {id: 'a', throughput: 100, p99Ms: 5},
    {id: 'b', throughput: 200, p99Ms: 10},
    {id: 'c', throughput: 150, p99Ms: 12}, // dominated by b
    {id: 'd', throughput: 300, p99Ms: 40},
    {id: 'e', throughput: 90, p99Ms: 6}, // dominated by a
  ])
  assert.deepEqual(f.map((p) => p.id), ['a', 'b', 'd'])
})

test('lists and ranges parse; bad values are usage errors', () => {
  assert.deepEqual(parseList('1:64:x2', 'c'), [1, 2, 4, 8, 16, 32, 64])
  assert.deepEqual(parseList('10:30:10,5', 'r'), [10, 20, 30, 5])
  assert.throws(() => parseList('a,b', 'c'), /not a list of numbers/)
  assert.throws(() => parseList('0', 'concurrency', {min: 1}), /can not be less than 1/)
  assert.equal(pointId({model: 'm', server: {maxBatchSize: 8}, client: {mode: 'closed', concurrency: 4, clientBatch: 1, repeatRatio: 0}}), 'model=m,maxBatch=8,c=4,batch=1,repeat=0')
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
  const a = {at: 0, samples: parsePrometheus('tfsopt_queue_latency_seconds_sum 1\ntfsopt_queue_latency_seconds_count 10\ntfsopt_batch_size_sum 10\ntfsopt_batch_size_count 10\ntfsopt_cache_hits_total 0\ntfsopt_cache_misses_total 0\n')}
  const b = {at: 2000, samples: parsePrometheus('# HELP x\ntfsopt_queue_latency_seconds_sum 1.5\ntfsopt_queue_latency_seconds_count 110\ntfsopt_batch_size_sum 410\ntfsopt_batch_size_count 110\ntfsopt_cache_hits_total{model="m"} 30\ntfsopt_cache_misses_total{model="m"} 70\n')}
  const d = breakdown(a, b)!
  assert.ok(Math.abs(d.queueMs! - 5) < 1e-9)
  assert.ok(Math.abs(d.batchSize! - 4) < 1e-9)
  assert.ok(Math.abs(d.cacheHitRatio! - 0.3) < 1e-9)
})
