import {test} from 'node:test'
import assert from 'node:assert/strict'
import {batchCapacity, batchFormation, batchLatency, fitBatchCost} from '../../src/queueing/batching.js'
import {TfsoptError} from '../../src/errors.js'

const close = (got: number, want: number, rel = 1e-6) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want} (rel ${rel})`)

test('fit t(b) = α + βb recovers a known line, with weights', () => {
  const f = fitBatchCost([
    {batchSize: 1, batchTime: 0.006},
    {batchSize: 8, batchTime: 0.013},
    {batchSize: 32, batchTime: 0.037, weight: 3},
  ])
  close(f.alpha, 0.005)
  close(f.beta, 0.001)
  assert.equal(f.warnings.length, 0)
  assert.throws(
    () =>
      fitBatchCost([
        {batchSize: 4, batchTime: 0.01},
        {batchSize: 4, batchTime: 0.011},
      ]),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE' && /two different sizes/.test(e.message),
  )
})

test('capacity c·B/t(B) tends to c/β (queueing.md §Batching)', () => {
  const cap = batchCapacity({alpha: 0.005, beta: 0.001}, 32, 2)
  close(cap.total, (2 * 32) / 0.037)
  close(cap.asymptote, 2000)
})

test('batch formation reduces to queueing.md closed forms in both limits', () => {
  // Unbounded batch: mean wait (T + λT²/2)/(1 + λT), batch 1 + λT.
  const light = batchFormation(10, 10_000, 0.05)
  close(light.meanBatchSize, 1.5)
  close(light.meanFormationWait, (0.05 + (10 * 0.05 ** 2) / 2) / 1.5, 1e-6)
  // λT ≫ B: batches fill, mean wait (B−1)/(2λ).
  const full = batchFormation(1000, 8, 1)
  close(full.meanBatchSize, 8)
  close(full.meanFormationWait, 7 / 2000, 1e-4)
  // Timeout 0 with no backlog: batches of one, no formation wait.
  assert.equal(batchFormation(100, 8, 0).meanFormationWait, 0)
})

test('greedy batching: b* = λα/(1 − λβ), latency 1.5·t(b*)', () => {
  // λ = 500, α = 5 ms, β = 1 ms: b* = 2.5/0.5 = 5, t(5) = 10 ms, latency 15 ms.
  const r = batchLatency({alpha: 0.005, beta: 0.001, maxBatchSize: 32, timeout: 0, workers: 1, arrivalRate: 500})
  assert.equal(r.model, 'greedy')
  close(r.meanBatchSize, 5)
  close(r.meanLatencyS, 0.015)
})

test('light load with a timeout: latency ≈ T + t(1) when batches rarely collect a second request', () => {
  const r = batchLatency({alpha: 0.005, beta: 0.001, maxBatchSize: 32, timeout: 0.001, workers: 4, arrivalRate: 1})
  assert.equal(r.model, 'timeout')
  close(r.meanLatencyS, 0.001 + 0.006, 0.01)
})

test('overload is a usage error naming the capacity', () => {
  assert.throws(
    () => batchLatency({alpha: 0.005, beta: 0.001, maxBatchSize: 32, timeout: 0, workers: 1, arrivalRate: 2000}),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE' && /capacity/.test(e.message),
  )
})
