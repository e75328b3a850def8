import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mm1, mmc, mmcResponseQuantile, mmcResponseTail, mmcWaitQuantile} from '../../src/queueing/mmc.js'
import {TfsoptError} from '../../src/errors.js'

const close = (got: number, want: number, rel = 1e-6) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want} (rel ${rel})`)

test('M/M/c c=2, λ=150, μ=100 matches test-vectors.md', () => {
  const r = mmc({arrivalRate: 150, serviceTime: 0.01, servers: 2})
  close(r.probWait, 0.64285714)
  close(r.wq, 0.012857143)
  close(r.w, 0.022857143)
  close(mmcResponseQuantile(r, 0.5), 0.016880679)
  close(mmcResponseQuantile(r, 0.99), 0.097095034)
})

test('M/M/1 c=1, λ=80, μ=100 matches test-vectors.md and the closed form', () => {
  const r = mmc({arrivalRate: 80, serviceTime: 0.01, servers: 1})
  close(r.probWait, 0.8)
  close(r.wq, 0.04)
  close(r.w, 0.05)
  close(mmcResponseQuantile(r, 0.5), 0.034657359)
  close(mmcResponseQuantile(r, 0.99), 0.23025851)
  const one = mm1(80, 0.01)
  close(one.w, 0.05)
  close(one.responseQuantile(0.99), 0.23025851)
  close(one.l, 4) // L = ρ/(1−ρ) = 0.8/0.2 (Kleinrock eq. 3.24)
})

test("Little's law holds inside the model: L = λW, Lq = λWq", () => {
  const r = mmc({arrivalRate: 300, serviceTime: 0.012, servers: 4})
  close(r.l, 300 * r.w)
  close(r.lq, 300 * r.wq)
})

test('waiting-time quantile: 0 below 1−C, ln(C/(1−p))/γ above (c=2, λ=1, μ=1: C=1/3, γ=1)', () => {
  const r = mmc({arrivalRate: 1, serviceTime: 1, servers: 2})
  assert.equal(mmcWaitQuantile(r, 0.5), 0)
  close(mmcWaitQuantile(r, 0.99), Math.log(1 / 3 / 0.01))
})

test('response tail is continuous through γ = μ (its limit form) and starts at 1', () => {
  // c=2, λ=μ=1 gives γ = cμ − λ = 1 = μ exactly.
  const at = mmc({arrivalRate: 1, serviceTime: 1, servers: 2})
  const near = mmc({arrivalRate: 1 + 1e-5, serviceTime: 1, servers: 2})
  assert.equal(mmcResponseTail(at, 0), 1)
  close(mmcResponseTail(at, 2), mmcResponseTail(near, 2), 1e-4)
  // γ = μ: P(T>t) = (1−C)e^{−t} + C(1+t)e^{−t} with C = 1/3.
  close(mmcResponseTail(at, 2), (2 / 3) * Math.exp(-2) + (1 / 3) * 3 * Math.exp(-2))
})

test('ρ ≥ 1 is a usage error that names the capacity', () => {
  assert.throws(
    () => mmc({arrivalRate: 250, serviceTime: 0.01, servers: 2}),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE' && /unstable/.test(e.message) && /200/.test(e.message),
  )
  assert.throws(() => mmc({arrivalRate: -1, serviceTime: 0.01, servers: 2}), TfsoptError)
})
