import {test} from 'node:test'
import assert from 'node:assert/strict'
import {asymptoticBounds, mva} from '../../src/queueing/closed.js'
import {closedLoopCheck, littleCheck, utilisationCheck} from '../../src/queueing/little.js'

const close = (got: number, want: number, rel = 1e-9) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want}`)

test('asymptotic bounds (Lazowska QSP §5.2): D = 10 ms, c = 2, Z = 0', () => {
  const lo = asymptoticBounds({concurrency: 1, demand: 0.01, bottleneckDemand: 0.005})
  close(lo.throughputUpper, 100)
  close(lo.responseLower, 0.01)
  close(lo.kneeConcurrency, 2)
  const hi = asymptoticBounds({concurrency: 10, demand: 0.01, bottleneckDemand: 0.005})
  close(hi.throughputUpper, 200)
  close(hi.responseLower, 0.05)
})

test('MVA, one server, no think time: X = 1/D, R = N·D for every N', () => {
  const pts = mva({maxConcurrency: 5, serviceTime: 0.01})
  pts.forEach((p, i) => {
    close(p.throughput, 100)
    close(p.responseTime, 0.01 * (i + 1))
  })
})

test('MVA matches the machine-repair (finite-source) model, Gross & Harris §2.8', () => {
  // c=1, N=2, S=1, Z=1: p_k ∝ N!/(N−k)!·(S/Z)^k = 1, 2, 2 → p0 = 1/5, X = (1 − p0)/S = 0.8.
  close(mva({maxConcurrency: 2, serviceTime: 1, thinkTime: 1}).at(-1)!.throughput, 0.8)
  // c=2, N=3, S=1, Z=1: p_k ∝ C(3,k) for k ≤ 2 and C(3,3)·3!/(2!·2)=1.5 for k=3 → 1, 3, 3, 1.5 (sum 8.5);
  // X = Σ min(k,2)·p_k = (3 + 6 + 3)/8.5 = 24/17; R = N/X − Z = 27/24.
  const p = mva({maxConcurrency: 3, serviceTime: 1, servers: 2, thinkTime: 1}).at(-1)!
  close(p.throughput, 24 / 17)
  close(p.responseTime, 27 / 24)
})

test('MVA with c servers and Z = 0: X = min(N, c)/S', () => {
  const pts = mva({maxConcurrency: 6, serviceTime: 0.02, servers: 4})
  pts.forEach((p) => close(p.throughput, Math.min(p.concurrency, 4) / 0.02))
})

test("Little's law checks: consistent points pass, a 20% gap is flagged", () => {
  assert.equal(closedLoopCheck({concurrency: 8, throughput: 200, meanResponseTime: 0.04}).verdict, 'ok')
  const bad = closedLoopCheck({concurrency: 8, throughput: 160, meanResponseTime: 0.04})
  assert.equal(bad.verdict, 'violated')
  close(bad.relErr, 0.25)
  assert.equal(littleCheck({throughput: 100, meanResponseTime: 0.05, meanInSystem: 5}).verdict, 'ok')
  assert.equal(utilisationCheck({throughput: 250, serviceTime: 0.01, servers: 2}).verdict, 'violated')
})
