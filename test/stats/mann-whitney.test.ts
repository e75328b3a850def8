// Mann-Whitney U against the project's reference values (test-vectors.md, SciPy 1.17
// stats.mannwhitneyu, asymptotic, continuity-corrected), a published example (R's wilcox.test
// documentation, Hollander & Wolfe 1973 p. 69: W = 35), and benchstat's smallest-p figures.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {binomial, mannWhitneyU, minReachableP, minSamplesPerSide, rankWithTies} from '../../src/stats/mann-whitney.ts'

const close = (got: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what}: got ${got}, want ${want}`)

const x = [12.1, 11.8, 12.5, 12.0, 11.9, 12.3, 12.2, 12.4, 12.0, 12.1]
const y = [12.9, 13.1, 12.7, 13.0, 12.8, 13.3, 12.9, 13.2, 13.0, 12.8]
const z = [12.0, 12.2, 12.1, 11.9, 12.4, 12.0, 12.3, 12.1, 12.2, 12.0]

test('test-vectors.md: x vs y gives U = 0, p = 0.00017761', () => {
  const r = mannWhitneyU(x, y)
  assert.equal(r.u1, 0)
  assert.equal(r.u2, 100)
  // The vector is printed to 5 significant digits, so it holds to half a unit of the last digit
  // (5e-9); 1e-6 relative is checked against SciPy's full value 0.00017761066068896375.
  assert.ok(Math.abs(r.pTwoSided - 0.00017761) <= 5e-9, `p (5 digits): ${r.pTwoSided}`)
  close(r.pTwoSided, 0.00017761066068896375, 1e-6, 'p (SciPy full precision)')
  close(r.pLess, 8.880533034448187e-5, 1e-6, 'p less')
  close(r.pGreater, 0.9999345175779782, 1e-6, 'p greater')
  assert.ok(r.ties)
  assert.ok(r.z < 0, 'x is smaller, so z is negative')
})

test('test-vectors.md: x vs z gives U = 50.5, p = 1.0 (capped)', () => {
  const r = mannWhitneyU(x, z)
  assert.equal(r.u1, 50.5)
  assert.equal(r.pTwoSided, 1)
  close(r.pLess, 0.5305557055709433, 1e-6, 'p less')
  close(r.pGreater, 0.5, 1e-6, 'p greater')
})

test('published example (Hollander & Wolfe; R wilcox.test docs): W = 35', () => {
  const a = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
  const b = [1.15, 0.88, 0.9, 0.74, 1.21]
  const r = mannWhitneyU(a, b, {alternative: 'greater'})
  assert.equal(r.u1, 35)
  // SciPy asymptotic values for the same data.
  close(r.p, 0.12231180256349167, 1e-6, 'p greater')
  close(r.pTwoSided, 0.24462360512698333, 1e-6, 'p two-sided')
})

test('SciPy: unequal sizes with heavy ties', () => {
  const r = mannWhitneyU([3, 5, 5, 7, 9, 9, 9], [1, 2, 5, 5, 6, 8])
  assert.equal(r.u1, 31)
  close(r.pTwoSided, 0.16635245874718452, 1e-6, 'two-sided')
  close(r.pLess, 0.9369552230237048, 1e-6, 'less')
  close(r.pGreater, 0.08317622937359226, 1e-6, 'greater')
  const s = mannWhitneyU([101, 99, 100, 102, 98], [100, 100, 100, 100, 100, 100, 100])
  assert.equal(s.u1, 17.5)
  assert.equal(s.pTwoSided, 1)
  close(s.pLess, 0.5384854918603669, 1e-6, 'less (ties)')
})

test('complete separation of 4 vs 4: SciPy p = 0.030383 (normal), exact 2/C(8,4) = 0.0286', () => {
  const r = mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8])
  close(r.pTwoSided, 0.03038282197657749, 1e-6, 'two-sided')
  close(r.pLess, 0.015191410988288745, 1e-6, 'less')
  close(minReachableP(4, 4), 0.03038282197657749, 1e-9, 'normal min p')
  close(minReachableP(4, 4, {method: 'exact'}), 2 / 70, 1e-12, 'exact min p')
})

test('all values equal: no evidence, p = 1', () => {
  const r = mannWhitneyU([5, 5, 5, 5], [5, 5, 5, 5, 5])
  assert.equal(r.sigma, 0)
  assert.equal(r.pTwoSided, 1)
})

test('swapping the samples swaps U and the one-sided p-values', () => {
  const a = mannWhitneyU(x, y)
  const b = mannWhitneyU(y, x)
  assert.equal(a.u1, b.u2)
  assert.equal(a.pTwoSided, b.pTwoSided)
  assert.equal(a.pLess, b.pGreater)
})

test('ranks: ties get the average rank; Σ(t³ − t) counts tie groups', () => {
  assert.deepEqual(rankWithTies([10, 20, 20, 30]), {ranks: [1, 2.5, 2.5, 4], tieTerm: 6})
  assert.deepEqual(rankWithTies([3, 1, 2]), {ranks: [3, 1, 2], tieTerm: 0})
  assert.deepEqual(rankWithTies([7, 7, 7]).ranks, [2, 2, 2])
})

test('rejects empty and non-finite samples', () => {
  assert.throws(() => mannWhitneyU([], [1]), /empty/)
  assert.throws(() => mannWhitneyU([1, NaN], [1]), /non-finite/)
})

test('smallest reachable p (benchstat): 0.1 at n = 3, 0.0286 at n = 4; ≥ 4 per side needed at α = 0.05', () => {
  close(minReachableP(3, 3, {method: 'exact'}), 0.1, 1e-12, 'n=3 exact')
  close(minReachableP(3, 3, {method: 'exact', alternative: 'less'}), 0.05, 1e-12, 'n=3 exact one-sided')
  assert.equal(minSamplesPerSide(0.05), 4)
  assert.equal(minSamplesPerSide(0.05, {method: 'exact'}), 4)
  // At α = 0.01 the normal approximation needs one more window than the exact test (6 vs 5).
  assert.equal(minSamplesPerSide(0.01, {method: 'exact'}), 5)
  assert.equal(minSamplesPerSide(0.01), 6)
  assert.ok(minReachableP(3, 3) >= 0.05)
  assert.throws(() => minSamplesPerSide(0), /alpha/)
  assert.equal(binomial(8, 4), 70)
  assert.equal(binomial(20, 10), 184756)
})
