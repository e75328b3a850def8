// Multi-worker settings forecast from the 1-worker calibration (src/bench/worker-scaling.ts), worked by hand.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {finalizeRun} from '../../src/bench/finalize.ts'
import {coreShortfall, fromOneWorkerRows, oneWorkerKey} from '../../src/bench/worker-scaling.ts'
import type {BenchRun, PointResult, StationFit} from '../../src/results/bench-run.ts'

// Main thread D = 1 ms, worker t(1) = 2 ms, no generator, delay, gap or wake-up; CPU 3 ms per request.
const ONE: StationFit = {
  calibrationIds: ['c=1', 'c=2'],
  workers: 1,
  maxBatchSize: 1,
  batchTimeoutMs: 0,
  generatorMs: 0,
  mainMs: 1,
  mainPerBatchMs: 0,
  alphaMs: 0,
  betaMs: 2,
  delayMs: 0,
  gapMs: 0,
  wakeMs: 0,
  capacity: 480,
  cpuPerRequestMs: 3,
  cores: 2,
}

function point(workers: number, concurrency: number, throughput: number, meanMs: number): PointResult {
  return {
    id: `workers=${workers},c=${concurrency}`,
    config: {model: 'm', server: {workers, intraOpThreads: 1, maxBatchSize: 1}, client: {mode: 'closed', concurrency, clientBatch: 1, repeatRatio: 0}},
    stable: true,
    windows: [],
    throughput,
    inferencesPerSec: throughput,
    latency: {meanMs, stdevMs: 0.1, minMs: 0.1, maxMs: 9, p50Ms: meanMs, p90Ms: meanMs, p95Ms: meanMs, p99Ms: meanMs, p999Ms: meanMs},
    errors: {non2xx: 0, timeouts: 0, connection: 0, total: 0},
  } as PointResult
}

const pick = (rows: ReturnType<typeof fromOneWorkerRows>, q: string) => rows.find((r) => r.quantity === q)!

test('2 workers from the 1-worker calibration: one client pays D_main + t(1); many are held to cores ÷ CPU', () => {
  // N = 1: R = 1 + 2 = 3 ms, X = 1/R = 333.3/s, whatever the worker count.
  const lone = fromOneWorkerRows(point(2, 1, 300, 3.3), ONE, 2, false)
  assert.ok(Math.abs(pick(lone, 'meanLatency').predicted! - 0.003) < 1e-12)
  assert.ok(Math.abs(pick(lone, 'throughput').predicted! - 1000 / 3) < 1e-6)
  assert.equal(pick(lone, 'throughput').calibration, false)
  // Relative error against the measured 300/s: (333.3 − 300)/300.
  assert.ok(Math.abs(pick(lone, 'throughput').relErr! - (1000 / 3 - 300) / 300) < 1e-9)
  // N = 64: the stations alone would carry ~1000/s (the main thread, D = 1 ms, saturates; 2 workers ×
  // 500/s), but 2 cores ÷ 3 ms = 666.7/s bounds it; R = N/X = 96 ms. The 1-worker capacity (480/s) is
  // dropped: it was the one worker's limit.
  const many = fromOneWorkerRows(point(2, 64, 650, 98), ONE, 2, false)
  assert.ok(Math.abs(pick(many, 'throughput').predicted! - 2000 / 3) < 1e-6)
  assert.ok(Math.abs(pick(many, 'meanLatency').predicted! - 0.096) < 1e-9)
  assert.match(pick(many, 'throughput').note!, /at the cores bound/)
  // Without the cores bound the main thread is the limit, X < 1000/s; with 2 workers of 2 ms it is about
  // balanced against them (1 ms per request each), and two balanced stations give X(N) = N/(N+1) / D:
  // 64/65 · 1000 = 984.6/s.
  const {cpuPerRequestMs: _c, cores: _k, ...noCpu} = ONE
  const free = fromOneWorkerRows(point(2, 64, 650, 98), noCpu, 2, false)
  const x = pick(free, 'throughput').predicted!
  assert.ok(x < 1000 && Math.abs(x - 64_000 / 65) < 0.01 * 1000, `X = ${x}`)
})

test('the row says when the machine lacks the cores for the threads', () => {
  assert.equal(coreShortfall(1, 1, 2, false), undefined, 'main + 1 worker on 2 cores')
  assert.match(coreShortfall(2, 1, 2, true)!, /2 cores for 4 busy threads \(the main thread, 2 workers × 1 intra-op thread, the load generator\)/)
  // Default intra-op threads: (cores − 1) ÷ workers, at least 1. On 8 cores (7 ÷ 2 = 3): 1 + 2 × 3 + 1 = 8, fits;
  // on 2 cores (1 ÷ 2 → 1): 1 + 2 × 1 + 1 = 4 > 2.
  assert.equal(coreShortfall(2, undefined, 8, true), undefined)
  assert.match(coreShortfall(2, undefined, 2, true)!, /2 cores for 4 busy threads/)
  assert.match(coreShortfall(2, 4, 8, false)!, /8 cores for 9 busy threads/)
  const rows = fromOneWorkerRows(point(2, 4, 600, 6), ONE, 2, true)
  assert.match(rows[0]!.assumptionsViolated[0]!, /workers share cores/)
  // With the point's own CPU measured, the row says what sharing cost: (0.3 + 1.5 cores) ÷ 600/s = 3 ms.
  const shared = fromOneWorkerRows({...point(2, 4, 600, 6), clientCpuCores: 0.3, serverCpuCores: 1.5}, ONE, 2, true)
  assert.match(shared[0]!.assumptionsViolated[0]!, /measured here: 3 ms of CPU per request against 3 ms with 1 worker/)
})

test('finalizeRun: the 2-worker points show the forecast from the 1-worker setting, never a calibration', () => {
  assert.equal(oneWorkerKey(point(1, 1, 1, 1)), undefined)
  assert.equal(oneWorkerKey(point(2, 4, 1, 1)), oneWorkerKey(point(3, 8, 1, 1)))
  // Busy-time counters as the server reports them: main 1 ms, worker 2 ms per request at every point.
  const counters = (p: PointResult) => ({
    ...p,
    server: {batchSize: 1, batches: 1000, mainBusyMsPerRequest: 1, computeMsPerBatch: 2, workerLoopMsPerRequest: 2},
    clientCpuCores: 0,
    serverCpuCores: (p.throughput * 3) / 1000,
  })
  const pts = [point(1, 1, 333, 3), point(1, 2, 420, 4.7), point(1, 8, 480, 16.6), point(2, 1, 330, 3.03), point(2, 8, 640, 12.5)].map(
    counters,
  ) as PointResult[]
  const run = {target: {url: 'x', builtIn: true}, points: pts, machine: {cores: 2}} as unknown as BenchRun
  // On 2 cores, main + 2 workers + the generator are 4 busy threads: the 2-worker points keep their own
  // calibration, and the run says why.
  const tight = structuredClone(run)
  finalizeRun(tight, {modelArg: 'm', cores: 2, workersOf: (p) => p.config.server.workers!})
  assert.equal(tight.points[4]!.prediction?.model, 'station model')
  assert.ok(tight.points[4]!.queueing!.some((r) => r.kind === 'station-model-workers'))
  assert.ok(tight.warnings!.some((w) => /--workers 2: this machine has 2 cores for 4 busy threads/.test(w)))
  // On 8 cores each thread has one: the forecast from 1 worker is what they show.
  finalizeRun(run, {modelArg: 'm', cores: 8, workersOf: (p) => p.config.server.workers!})
  for (const p of pts.filter((q) => q.config.server.workers === 2)) {
    assert.equal(p.prediction?.model, 'station model (from 1 worker)')
    assert.equal(p.prediction?.calibration, false)
  }
  // c = 1 with 2 workers: R = 3 ms from the 1-worker demands (its wake-up cost w = 3 − 3 = 0).
  assert.ok(Math.abs(pts[3]!.prediction!.meanMs - 3) < 1e-6, String(pts[3]!.prediction!.meanMs))
  assert.equal(pts[0]!.prediction?.model, 'station model')
})
