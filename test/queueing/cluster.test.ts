import {test} from 'node:test'
import assert from 'node:assert/strict'
import {erlangArrivalSigma, parseLbPolicy, positionProbabilities, predictCluster, supermarket} from '../../src/queueing/cluster.js'
import {solveDispatchCtmc} from '../../src/queueing/cluster-ctmc.js'
import {erlangB} from '../../src/queueing/erlang.js'
import {compareLoadBalancing} from '../../src/queueing/articles.js'
import {TfsoptError} from '../../src/errors.js'

const close = (got: number, want: number, rel = 1e-6) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want} (rel ${rel})`)

test('random split, exponential: N × M/M/1 at λ/N (N=4, λ=160, S=20 ms → ρ=0.8, W=100 ms, p99 = ln(100)·W)', () => {
  const r = predictCluster('random', {replicas: 4, arrivalRate: 160, serviceTime: 0.02})
  assert.equal(r.exact, true)
  close(r.utilisation, 0.8)
  close(r.w, 0.1)
  close(r.wq, 0.08)
  close(r.responseQuantile(0.99), 0.46051702)
})

test('random split, constant service: M/D/1 by P-K, W = S + ρS/(2(1−ρ)) = 20 + 40 = 60 ms', () => {
  const r = predictCluster('random', {replicas: 4, arrivalRate: 160, serviceTime: 0.02, serviceScv: 0})
  close(r.w, 0.06)
  assert.match(r.method, /M\/D\/1/)
})

test('round robin, exponential: E_2/M/1 at ρ=0.5 has σ = (3−√5)/2 and W = 1/(1−σ) = the golden ratio (hand-worked)', () => {
  // σ = 1/(2−σ)² ⇔ (σ−1)(σ²−3σ+1) = 0, smallest root in (0,1).
  close(erlangArrivalSigma(2, 1, 1), (3 - Math.sqrt(5)) / 2, 1e-9)
  const r = predictCluster('round-robin', {replicas: 2, arrivalRate: 1, serviceTime: 1})
  close(r.w, (1 + Math.sqrt(5)) / 2, 1e-9)
  close(r.probWait, (3 - Math.sqrt(5)) / 2, 1e-9)
  close(r.responseQuantile(0.99), Math.log(100) * ((1 + Math.sqrt(5)) / 2), 1e-9)
})

test('round robin with one replica is M/M/1 (σ = ρ)', () => {
  const r = predictCluster('round-robin', {replicas: 1, arrivalRate: 80, serviceTime: 0.01})
  close(r.w, 0.05, 1e-9)
  close(r.probWait, 0.8, 1e-9)
})

test('round robin, constant service: Kingman with Ca² = 1/N (N=2, ρ=0.5: Wq = 1·(0.5/2)·20 ms = 5 ms)', () => {
  const r = predictCluster('round-robin', {replicas: 2, arrivalRate: 50, serviceTime: 0.02, serviceScv: 0})
  close(r.wq, 0.005)
  close(r.w, 0.025)
  assert.equal(r.exact, false)
  assert.match(r.method, /Kingman/)
})

test('central queue is M/M/c: c=2, λ=150, μ=100 matches test-vectors.md', () => {
  const r = predictCluster('central', {replicas: 2, arrivalRate: 150, serviceTime: 0.01})
  close(r.w, 0.022857143)
  close(r.responseQuantile(0.99), 0.097095034)
})

test('the dispatch chain with a random split reproduces M/M/1 (N=2, ρ=0.5: W = 2S, P(wait) = ρ)', () => {
  const r = solveDispatchCtmc({replicas: 2, arrivalRate: 1, serviceTime: 1, positionProbs: positionProbabilities('random', 2), cap: 40})!
  close(r.w, 2, 1e-6)
  close(1 - r.joinDistribution[0]!, 0.5, 1e-6)
})

test('JSQ over 2 queues of capacity 1 is the Erlang loss system M/M/2/2: blocking = B(2, a)', () => {
  // a = 1.5: B(2, 1.5) = (a²/2)/(1 + a + a²/2) = 1.125/3.625 (hand-worked).
  const r = solveDispatchCtmc({replicas: 2, arrivalRate: 1.5, serviceTime: 1, positionProbs: positionProbabilities('least-conn', 2), cap: 1, growCap: false})!
  close(1 - r.acceptedFraction, 1.125 / 3.625, 1e-9)
  close(1 - r.acceptedFraction, erlangB(2, 1.5), 1e-9)
  close(r.w, 1, 1e-9) // nobody waits: every accepted arrival finds a free server
})

test('power of two over two replicas samples both, so it equals JSQ', () => {
  const a = predictCluster('least-conn', {replicas: 2, arrivalRate: 1, serviceTime: 1})
  const b = predictCluster('random-two', {replicas: 2, arrivalRate: 1, serviceTime: 1})
  close(a.w, b.w, 1e-9)
  // JSQ sits between the central queue (M/M/2: W = 4/3) and round robin (golden ratio).
  assert.ok(a.w > 4 / 3 && a.w < (1 + Math.sqrt(5)) / 2, `JSQ W ${a.w}`)
})

test('position probabilities: power of two over 4 sorted queues is 3/6, 2/6, 1/6, 0', () => {
  const p = positionProbabilities('random-two', 4)
  ;[0.5, 1 / 3, 1 / 6, 0].forEach((v, i) => close(p[i]! + 1e-12, v + 1e-12, 1e-9))
})

test('theory orders the policies at N=4, ρ=0.8 (exponential): random > round robin > random-two > least-conn > central', () => {
  const w = (pol: 'random' | 'round-robin' | 'random-two' | 'least-conn' | 'central') => predictCluster(pol, {replicas: 4, arrivalRate: 160, serviceTime: 0.02})
  const order = (['random', 'round-robin', 'random-two', 'least-conn', 'central'] as const).map((p) => w(p))
  for (let i = 1; i < order.length; i++) {
    assert.ok(order[i - 1]!.w > order[i]!.w, `${order[i - 1]!.policy} W ${order[i - 1]!.w} > ${order[i]!.policy} W ${order[i]!.w}`)
    assert.ok(order[i - 1]!.responseQuantile(0.99) > order[i]!.responseQuantile(0.99))
  }
})

test('supermarket model: d=2, ρ=0.5: s_i = 0.5^(2^i−1), E[T]/S = Σ s_i/ρ = 1.265686036 (hand-summed); d=1 is M/M/1', () => {
  const m = supermarket(0.5, 1)
  close(m.queueTail(1), 0.5)
  close(m.queueTail(2), 0.125)
  close(m.queueTail(3), 0.0078125)
  close(m.w, 1.265686036, 1e-8)
  close(supermarket(0.5, 1, 1).w, 2, 1e-9)
  // Finite N does worse than the N → ∞ limit.
  assert.ok(predictCluster('random-two', {replicas: 4, arrivalRate: 2, serviceTime: 1}).w > m.w)
})

test('policy names: nginx/HAProxy aliases parse, unknown ones are a usage error', () => {
  assert.equal(parseLbPolicy('least_conn'), 'least-conn')
  assert.equal(parseLbPolicy('random(2)'), 'random-two')
  assert.equal(parseLbPolicy('RR'), 'round-robin')
  assert.throws(
    () => parseLbPolicy('sticky'),
    (e: unknown) => e instanceof TfsoptError && /round-robin/.test(e.message),
  )
  assert.throws(() => predictCluster('random', {replicas: 2, arrivalRate: 200, serviceTime: 0.01}), TfsoptError)
})

test("the articles' balanced form P/M against the aggregate capacity M·P", () => {
  const c = compareLoadBalancing(50, 4)
  assert.equal(c.article, 12.5)
  assert.equal(c.correct, 200)
})
