import {test} from 'node:test'
import assert from 'node:assert/strict'
import {predictPoint} from '../../src/queueing/predict.js'

test('open point: M/M/c rows carry the reference predictions, relative error and violated assumptions', () => {
  const rows = predictPoint({mode: 'open', arrivalRate: 150, workers: 2, serviceTimeS: 0.01, serviceScv: 0.05,
    measured: {throughput: 150, meanLatencyS: 0.02, p50LatencyS: 0.015, p99LatencyS: 0.06}})
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
  const rows = predictPoint({mode: 'open', arrivalRate: 100, workers: 1, serviceTimeS: 0.006, serviceScv: 0.02,
    measured: {throughput: 100, meanLatencyS: 0.004}, cache: {hitRatio: 0.5, hitTimeS: 0.001, missTimeS: 0.006},
    batching: {alpha: 0.005, beta: 0.001, maxBatchSize: 8, timeoutS: 0}})
  assert.ok(rows.some((r) => r.model.startsWith('cache mixture') && Math.abs(r.predicted! - 0.0035) < 1e-12))
  assert.ok(rows.some((r) => /article/.test(r.model) && r.assumptionsViolated.length > 0))
  assert.ok(rows.some((r) => r.model.startsWith('batching (')))
})
