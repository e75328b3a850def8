import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mg1} from '../../src/queueing/mg1.js'
import {allenCunneen, approxResponseQuantile, kingman} from '../../src/queueing/ggc.js'
import {mdc} from '../../src/queueing/mdc.js'
import {mmc} from '../../src/queueing/mmc.js'

const close = (got: number, want: number, rel = 1e-9) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want}`)

test('Pollaczek-Khinchine: M/D/1 at ρ=0.8, E[S]=1 waits ρE[S]/(2(1−ρ)) = 2 (Kleinrock §5.6); M/M/1 waits 4', () => {
  close(mg1({arrivalRate: 0.8, serviceTime: 1, serviceScv: 0}).wq, 2)
  close(mg1({arrivalRate: 0.8, serviceTime: 1, serviceScv: 1}).wq, 4)
  // Erlang-2 service (Cs² = 1/2): Wq = 0.8·1.5/(2·0.2) = 3.
  close(mg1({arrivalRate: 0.8, serviceTime: 1, serviceScv: 0.5}).wq, 3)
})

test('Kingman is exact for M/M/1 and equals P-K with Poisson arrivals', () => {
  close(kingman({arrivalRate: 0.8, serviceTime: 1, arrivalScv: 1, serviceScv: 1}).wq, 4)
  close(kingman({arrivalRate: 0.5, serviceTime: 1, arrivalScv: 1, serviceScv: 0.3}).wq, mg1({arrivalRate: 0.5, serviceTime: 1, serviceScv: 0.3}).wq)
  // D/D/1: no variability, no wait.
  assert.equal(kingman({arrivalRate: 0.9, serviceTime: 1, arrivalScv: 0, serviceScv: 0}).wq, 0)
})

test('Allen-Cunneen is exact for M/M/c (c=2, λ=150, μ=100: Wq = 0.012857143, test-vectors.md)', () => {
  close(allenCunneen({arrivalRate: 150, serviceTime: 0.01, servers: 2, arrivalScv: 1, serviceScv: 1}).wq, 0.012857143, 1e-6)
  close(allenCunneen({arrivalRate: 150, serviceTime: 0.01, servers: 2, arrivalScv: 1, serviceScv: 0}).wq, 0.012857143 / 2, 1e-6)
})

test('M/D/c: exact P-K for c = 1; Cosmetatos adds (1−ρ)(c−1)(√(4+5c)−2)/(16ρc) to the halved M/M/c wait', () => {
  const one = mdc({arrivalRate: 80, serviceTime: 0.01, servers: 1})
  close(one.wq, (0.8 * 0.01) / (2 * 0.2)) // P-K M/D/1: 0.02 s
  close(one.wqAllenCunneen, one.wq)
  // c = 4, ρ = 0.5: γ = 0.5·3·(√24 − 2)/(16·0.5·4) = 1.5·2.898979/32 = 0.135890...
  const d = mdc({arrivalRate: 200, serviceTime: 0.01, servers: 4})
  const wqMmc = mmc({arrivalRate: 200, serviceTime: 0.01, servers: 4}).wq
  const gamma = (0.5 * 3 * (Math.sqrt(24) - 2)) / 32
  close(d.wqAllenCunneen, wqMmc / 2)
  close(d.wqCosmetatos, (wqMmc / 2) * (1 + gamma))
  close(gamma, 0.13589, 1e-4)
})

test('approximate percentiles reduce to E[S] without queueing and grow with p', () => {
  assert.equal(approxResponseQuantile({probWait: 0, wq: 0}, 0.01, 0.99), 0.01)
  const d = mdc({arrivalRate: 150, serviceTime: 0.01, servers: 2})
  assert.ok(d.responseQuantile(0.5) < d.responseQuantile(0.99))
  // C = 0.642857: a fraction 1 − C = 0.357 of requests does not wait, so the 30th percentile is E[S].
  assert.ok(d.responseQuantile(0.3) === 0.01, 'below 1 − C the wait quantile is 0')
})
