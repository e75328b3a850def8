import {test} from 'node:test'
import assert from 'node:assert/strict'
import {meanInterval, t975} from '../../src/stats/t-interval.js'

test('t quantiles: table values and the expansion beyond 30 degrees of freedom', () => {
  assert.equal(t975(1), 12.706)
  assert.equal(t975(5), 2.571)
  // Tables: t0.975(40) = 2.021, t0.975(60) = 2.000, t0.975(120) = 1.980.
  assert.ok(Math.abs(t975(40) - 2.021) < 1e-3)
  assert.ok(Math.abs(t975(60) - 2.0) < 1e-3)
  assert.ok(Math.abs(t975(120) - 1.98) < 1e-3)
})

test('mean interval of 2, 4, 6, 8: mean 5, s = 2.582, half-width 3.182·2.582/2 = 4.108', () => {
  const ci = meanInterval([2, 4, 6, 8])!
  assert.equal(ci.mean, 5)
  const h = (3.182 * Math.sqrt(20 / 3)) / 2
  assert.ok(Math.abs(ci.hi - (5 + h)) < 1e-12 && Math.abs(ci.lo - (5 - h)) < 1e-12)
  assert.ok(Math.abs(ci.relHalfWidth - h / 5) < 1e-12)
})

test('mean interval needs two finite samples', () => {
  assert.equal(meanInterval([3]), undefined)
  assert.equal(meanInterval([1, Number.NaN]), undefined)
})
