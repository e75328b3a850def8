import {test} from 'node:test'
import assert from 'node:assert/strict'
import {predictPoint} from '../../src/queueing/predict.js'

test('open point: M/M/c rows carry the reference predictions, relative error and violated assumptions', () => {
  const rows = predictPoint({
    mode: 'open',
    arrivalRate: 150,
    workers: 2,
    serviceTimeS: 0.01,
    serviceScv: 0.05,
    measured: {throughput: 150, meanLatencyS: 0.02, p50LatencyS: 0.015, p99LatencyS: 0.06},
  })
  const mm = rows.find((r) => r.model === 'M/M/c' && r.quantity === 'meanLatency')!
  assert.ok(Math.abs(mm.predicted! - 0.022857143) < 1e-8) // test-vectors.md
  assert.ok(Math.abs(mm.relErr! - (0.022857143 - 0.02) / 0.02) < 1e-6)
  assert.ok(mm.assumptionsViolated.some((a) => /not exponential/.test(a)))
  const p99 = rows.find((r) => r.model === 'M/M/c' && r.quantity === 'p99Latency')!
  assert.ok(Math.abs(p99.predicted! - 0.097095034) < 1e-8)
  assert.ok(rows.some((r) => r.model === 'Allen-Cunneen G/G/c' && r.assumptionsViolated.length === 0))
  for (const r of rows) assert.deepEqual(Object.keys(r).slice(0, 7), ['model', 'quantity', 'unit', 'predicted', 'measured', 'relErr', 'assumptionsViolated'])
})

test('open point with ρ ≥ 1: predictions are null and the instability is named', () => {
  const rows = predictPoint({mode: 'open', arrivalRate: 300, workers: 2, serviceTimeS: 0.01, measured: {throughput: 200, meanLatencyS: 1}})
  const mm = rows.find((r) => r.model === 'M/M/c')!
  assert.equal(mm.predicted, null)
  assert.ok(mm.assumptionsViolated.some((a) => /ρ/.test(a) && /steady state/.test(a)))
})

test("closed point: Little's law violation is flagged; MVA predicts X = min(N,c)/S with Z = 0", () => {
  const rows = predictPoint({mode: 'closed', concurrency: 8, workers: 2, serviceTimeS: 0.01, measured: {throughput: 150, meanLatencyS: 0.04}})
  const little = rows.find((r) => r.model.startsWith("Little's law"))!
  assert.ok(Math.abs(little.predicted! - 200) < 1e-9)
  assert.ok(little.assumptionsViolated.length === 1)
  const x = rows.find((r) => r.model.startsWith('MVA') && r.quantity === 'throughput')!
  assert.ok(Math.abs(x.predicted! - 200) < 1e-9)
})

test('cache and batching rows; the article form is labelled wrong', () => {
  const rows = predictPoint({
    mode: 'open',
    arrivalRate: 100,
    workers: 1,
    serviceTimeS: 0.006,
    serviceScv: 0.02,
    measured: {throughput: 100, meanLatencyS: 0.004},
    cache: {hitRatio: 0.5, hitTimeS: 0.001, missTimeS: 0.006},
    batching: {alpha: 0.005, beta: 0.001, maxBatchSize: 8, timeoutS: 0},
  })
  assert.ok(rows.some((r) => r.model.startsWith('cache mixture') && Math.abs(r.predicted! - 0.0035) < 1e-12))
  assert.ok(rows.some((r) => /article/.test(r.model) && r.assumptionsViolated.length > 0))
  assert.ok(rows.some((r) => r.model.startsWith('batching (')))
})

test('batched points with the two stations calibrated get batch tandem rows; load dependence of S_main is named', () => {
  const base = {
    workers: 1,
    serviceTimeS: 0.0006,
    serviceScv: 1,
    batching: {alpha: 0, beta: 0.002, maxBatchSize: 32, timeoutS: 0},
    stations: {mainServiceS: 0.001, delayS: 0},
  }
  // α = 0: ordinary two-station MVA with demands 1 ms and 2 ms, N = 2: X = 3/7 per ms, R = 14/3 ms.
  const closed = predictPoint({...base, mode: 'closed', concurrency: 2, measuredBatchSize: 1.2, measured: {throughput: 400, meanLatencyS: 0.005}})
  const r = closed.find((x) => x.model.startsWith('batch tandem') && x.quantity === 'meanLatency')!
  assert.ok(Math.abs(r.predicted! - 0.014 / 3) < 1e-12)
  assert.deepEqual(r.assumptionsViolated, [])
  assert.match(r.note!, /realised 1\.2/)
  assert.ok(Math.abs(closed.find((x) => x.model.startsWith('batch tandem') && x.quantity === 'throughput')!.predicted! - 3000 / 7) < 1e-9)
  // Measured throughput above 1/S_main = 1000/s: the low-load main-thread time overstates this load's.
  const fast = predictPoint({...base, mode: 'closed', concurrency: 2, measured: {throughput: 1500, meanLatencyS: 0.0013}})
  assert.ok(fast.find((x) => x.model.startsWith('batch tandem'))!.assumptionsViolated.some((v) => /main thread's capacity/.test(v)))
  // Open loop over the main thread's capacity: no prediction, and the reason.
  const open = predictPoint({...base, mode: 'open', arrivalRate: 1200, measured: {throughput: 1100, meanLatencyS: 0.05}})
  const o = open.find((x) => x.model.startsWith('batch tandem') && x.quantity === 'meanLatency')!
  assert.equal(o.predicted, null)
  assert.ok(o.assumptionsViolated.some((v) => /main-thread utilisation/.test(v)))
  // Without the stations (a foreign server without metrics) there are none.
  assert.ok(
    !predictPoint({...base, stations: undefined, mode: 'closed', concurrency: 2, measured: {throughput: 400, meanLatencyS: 0.005}}).some((x) =>
      x.model.startsWith('batch tandem'),
    ),
  )
})

test('batch tandem calibrated from the other points: demand 1/X_other, the rest of S_main a delay', () => {
  // S_main = 1 ms, d = 0; another point ran at 2000/s, so the main thread's demand is at most 0.5 ms and
  // 0.5 ms becomes delay. α = 0, β = 2 ms, N = 2: delay 0.5, main 0.5, worker 2 ms; by product form
  // G(1) = 3, G(2) = 0.5²/2 + 0.5² + 2² + 0.5·0.5 + 0.5·2 + 0.5·2 = 6.625, X = 3/6.625 = 24/53 per ms, R = 53/12 ms.
  const base = {
    mode: 'closed' as const,
    workers: 1,
    serviceTimeS: 0.003,
    batching: {alpha: 0, beta: 0.002, maxBatchSize: 32, timeoutS: 0},
    stations: {mainServiceS: 0.001, delayS: 0},
    otherMaxThroughput: 2000,
  }
  const rows = predictPoint({...base, concurrency: 2, measured: {throughput: 450, meanLatencyS: 0.0044}})
  const r = rows.find((x) => x.model.includes('of others') && x.quantity === 'meanLatency')!
  assert.ok(Math.abs(r.predicted! - 0.053 / 12) < 1e-12)
  // One client still gets d + S_main + t(1).
  const one = predictPoint({...base, concurrency: 1, measured: {throughput: 330, meanLatencyS: 0.003}})
  assert.ok(Math.abs(one.find((x) => x.model.includes('of others') && x.quantity === 'meanLatency')!.predicted! - 0.003) < 1e-12)
  // A point faster than every other one: the bound is not tight there, and the row says so.
  const top = predictPoint({...base, concurrency: 2, measured: {throughput: 2500, meanLatencyS: 0.0008}})
  assert.ok(top.find((x) => x.model.includes('of others'))!.assumptionsViolated.some((v) => /above every other point/.test(v)))
  // A bound looser than S_main adds nothing.
  assert.ok(
    !predictPoint({...base, otherMaxThroughput: 500, concurrency: 2, measured: {throughput: 450, meanLatencyS: 0.0044}}).some((x) =>
      x.model.includes('of others'),
    ),
  )
})
