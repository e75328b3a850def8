// Order-statistic CI of the median against the binomial textbook result (e.g. Conover, Practical
// Nonparametric Statistics, §3.2): for n = 10, the 95% interval is [x(2), x(9)] with coverage
// 1 − 2·11/1024 = 0.978515625; for n = 5 even [min, max] only reaches 1 − 2/32 = 0.9375.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {median, medianCI, quantile} from '../../src/stats/quantile.ts'

test('median and quantile (simple-statistics definitions)', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 3, 2]), 2.5)
  assert.ok(Number.isNaN(median([])))
  assert.equal(quantile([1, 2, 3, 4, 5], 0.5), 3)
})

test('n = 10: 95% median CI is [x(2), x(9)], coverage 0.978515625', () => {
  const xs = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]
  const ci = medianCI(xs, 0.95)
  assert.equal(ci.lo, 2)
  assert.equal(ci.hi, 9)
  assert.equal(ci.level, 1 - (2 * 11) / 1024)
})

test('n = 5: too few for 95%, [min, max] with its true coverage 0.9375', () => {
  const ci = medianCI([5, 4, 3, 2, 1], 0.95)
  assert.deepEqual(ci, {lo: 1, hi: 5, level: 0.9375})
})

test('n = 20: 95% interval is [x(6), x(15)] (coverage 0.9586)', () => {
  const xs = Array.from({length: 20}, (_, i) => i + 1)
  const ci = medianCI(xs, 0.95)
  assert.equal(ci.lo, 6)
  assert.equal(ci.hi, 15)
  assert.ok(Math.abs(ci.level - 0.958610534667969) < 1e-12)
})
