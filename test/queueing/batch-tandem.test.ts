import {test} from 'node:test'
import assert from 'node:assert/strict'
import {batchTandemClosed, batchTandemOpen, greedyBatchSize, tandemMva} from '../../src/queueing/batch-tandem.js'
import {mva} from '../../src/queueing/closed.js'
import {TfsoptError} from '../../src/errors.js'

const close = (got: number, want: number, rel = 1e-9) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want} (rel ${rel})`)

// Product-form references worked by hand: with demands D_k, G(N) = Σ over states of Π_k f_k(n_k),
// f_k(n) = D_k^n for a single server, D^n/Π_{i≤n} min(i, c) for c servers, d^n/n! for a delay; X(N) = G(N−1)/G(N).

test('two single-server stations, N = 2: X = (D1 + D2)/(D1² + D1·D2 + D2²) = 3/7 for D = 1, 2', () => {
  const r = tandemMva({concurrency: 2, thinkTimeS: 0, delayS: 0, mainServiceS: 1, workerDemandS: 2, workers: 1})
  close(r.throughput, 3 / 7)
  close(r.mainResponseS + r.workerResponseS, 14 / 3) // N/X
  close(r.mainResponseS, 4 / 3) // D1·(1 + Q1(1)), Q1(1) = 1/3
})

test('one server behind a delay, N = 2 (machine repairman): G(2) = d²/2 + d·S + S² = 2.5, X = G(1)/G(2) = 0.8', () => {
  const r = tandemMva({concurrency: 2, thinkTimeS: 0, delayS: 1, mainServiceS: 1, workerDemandS: 0, workers: 1})
  close(r.throughput, 0.8)
  close(r.mainResponseS, 1.5) // N/X − d
})

test('a 2-server station: f_w(0..2) = 1, 2, 2 for D = 2, so G(2) = 1 + 2 + 2 = 5, G(1) = 3, X = 3/5', () => {
  const r = tandemMva({concurrency: 2, thinkTimeS: 0, delayS: 0, mainServiceS: 1, workerDemandS: 2, workers: 2})
  close(r.throughput, 3 / 5)
  close(r.mainResponseS + r.workerResponseS, 10 / 3)
})

test('batch tandem with α = 0 or max batch 1 is the ordinary two-station MVA', () => {
  // α = 0: per-request worker demand β whatever the batch size.
  const a0 = batchTandemClosed({concurrency: 2, mainServiceS: 1, delayS: 0, alpha: 0, beta: 2, maxBatchSize: 8, workers: 1})
  close(a0.throughput, 3 / 7)
  close(a0.meanLatencyS, 14 / 3)
  // Max batch 1: demand t(1) = α + β = 2.
  const b1 = batchTandemClosed({concurrency: 2, mainServiceS: 1, delayS: 0, alpha: 0.5, beta: 1.5, maxBatchSize: 1, workers: 1})
  assert.equal(b1.batchSize, 1)
  close(b1.throughput, 3 / 7)
  close(b1.meanLatencyS, 14 / 3)
  // The delay adds to the client's latency, and with one client nothing queues: R = d + S_main + t(1).
  const one = batchTandemClosed({concurrency: 1, mainServiceS: 0.3, delayS: 0.2, alpha: 0.4, beta: 0.1, maxBatchSize: 32, workers: 1})
  close(one.meanLatencyS, 1)
  close(one.throughput, 1)
})

test('worker-bound: the clients split into alternating cohorts of N/(c+1), each waiting for the batch ahead', () => {
  // S_main = d = 0, t(b) = α: N = 8, one worker, B = 4; a request waits one other batch and its own: R = 2α, X = 4/α.
  const one = batchTandemClosed({concurrency: 8, mainServiceS: 0, delayS: 0, alpha: 0.01, beta: 0, maxBatchSize: 32, workers: 1})
  close(one.batchSize, 4)
  assert.ok(one.batchCapped)
  close(one.meanLatencyS, 0.02)
  close(one.throughput, 400)
  // Two workers, N = 12: B = 4, both busy, X = c·B/α = 800, R = N/X = 1.5α.
  const two = batchTandemClosed({concurrency: 12, mainServiceS: 0, delayS: 0, alpha: 0.01, beta: 0, maxBatchSize: 32, workers: 2})
  close(two.batchSize, 4)
  close(two.throughput, 800, 1e-6)
  close(two.meanLatencyS, 0.015, 1e-6)
  // The max batch size caps B below N/(c+1).
  const capped = batchTandemClosed({concurrency: 64, mainServiceS: 0, delayS: 0, alpha: 0.01, beta: 0.001, maxBatchSize: 8, workers: 1})
  close(capped.batchSize, 8)
  close(capped.throughput, 8 / 0.018, 1e-6)
})

test('below the cap, B is a fixed point of E[max(Pois(λh), 1)] with X from textbook MVA', () => {
  // S_main = 0 (no hold beyond t(B)): single station + delay, which closed.ts's mva() solves.
  const input = {concurrency: 6, mainServiceS: 0, delayS: 0.004, alpha: 0.002, beta: 0.0005, maxBatchSize: 32, workers: 1}
  const r = batchTandemClosed(input)
  assert.ok(r.batchSize > 1 && r.batchSize < 3 && !r.batchCapped, `B = ${r.batchSize}`)
  const t = input.alpha + input.beta * r.batchSize
  const ref = mva({maxConcurrency: 6, serviceTime: t / r.batchSize, thinkTime: input.delayS}).at(-1)!
  close(r.throughput, ref.throughput, 1e-6)
  close(r.batchSize, ref.throughput * t + Math.exp(-ref.throughput * t), 1e-6)
})

test('greedy batch size: 1 at no load, λh + e^{−λh} between, λh under a backlog', () => {
  close(greedyBatchSize(0, 0.01), 1)
  close(greedyBatchSize(200, 0.01), 2 + Math.exp(-2))
  close(greedyBatchSize(5000, 0.01), 50, 1e-15)
})

test('open tandem with α = 0 is M/M/1 (main thread) + M/D/1 (worker, β) + the delay', () => {
  // λ = 100/s; main S = 4 ms (ρ = 0.4): W = S/(1−ρ) = 6.6667 ms; worker β = 5 ms (ρ = 0.5), P-K M/D/1:
  // W = S + ρS/(2(1−ρ)) = 7.5 ms; delay 1 ms.
  const r = batchTandemOpen({arrivalRate: 100, mainServiceS: 0.004, delayS: 0.001, alpha: 0, beta: 0.005, maxBatchSize: 8, workers: 1, timeoutS: 0})
  close(r.meanLatencyS, 0.001 + 0.004 / 0.6 + 0.0075, 1e-9)
  assert.equal(r.batching.model, 'unbatched')
  // Constant arrivals (Ca² = 0): Kingman for the main thread, Wq = ρ/(1−ρ)·(0 + 1)/2·S = 1.3333 ms.
  const c = batchTandemOpen({
    arrivalRate: 100,
    mainServiceS: 0.004,
    delayS: 0.001,
    alpha: 0,
    beta: 0.005,
    maxBatchSize: 8,
    workers: 1,
    timeoutS: 0,
    arrivalScv: 0,
  })
  close(c.mainResponseS, 0.004 + (0.4 / 0.6) * 0.5 * 0.004, 1e-9)
})

test('open tandem refuses a main thread at or over capacity', () => {
  assert.throws(
    () => batchTandemOpen({arrivalRate: 300, mainServiceS: 0.004, delayS: 0, alpha: 0.001, beta: 0.001, maxBatchSize: 8, workers: 1, timeoutS: 0}),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE' && /main-thread utilisation/.test(e.message),
  )
})
