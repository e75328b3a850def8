// The bootstrap CI of the ratio of medians against SciPy 1.17 scipy.stats.bootstrap(method='percentile',
// n_resamples=200000, paired=False) on the same data. A bootstrap is random, so the check is to within
// Monte-Carlo error (±0.3% of the ratio), not to 1e-6; the discrete first case lands on the same values.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {bootstrapRatioOfMedians} from '../../src/stats/bootstrap.ts'

const x = [12.1, 11.8, 12.5, 12.0, 11.9, 12.3, 12.2, 12.4, 12.0, 12.1]
const y = [12.9, 13.1, 12.7, 13.0, 12.8, 13.3, 12.9, 13.2, 13.0, 12.8]

test('test-vectors x, y: 95% CI of median(y)/median(x) = [1.04878, 1.08787] (SciPy)', () => {
  const ci = bootstrapRatioOfMedians(x, y)
  assert.equal(ci.resamples, 10_000)
  assert.ok(Math.abs(ci.ratio - 12.95 / 12.1) < 1e-12)
  assert.ok(Math.abs(ci.lo - 1.048780487804878) < 3e-3, `lo ${ci.lo}`)
  assert.ok(Math.abs(ci.hi - 1.087866108786611) < 3e-3, `hi ${ci.hi}`)
})

test('a 20% shift of 30 evenly spaced values: CI [1.12696, 1.27814] (SciPy)', () => {
  const a = Array.from({length: 30}, (_, i) => 100 + i)
  const b = a.map((v) => v * 1.2)
  const ci = bootstrapRatioOfMedians(a, b)
  assert.ok(Math.abs(ci.ratio - 1.2) < 1e-12)
  assert.ok(Math.abs(ci.lo - 1.1269565217391304) < 3e-3, `lo ${ci.lo}`)
  assert.ok(Math.abs(ci.hi - 1.2781395348837208) < 3e-3, `hi ${ci.hi}`)
})

test('seeded: same seed, same interval; the interval contains the point estimate', () => {
  const a = bootstrapRatioOfMedians(x, y, {seed: 7, resamples: 2000})
  const b = bootstrapRatioOfMedians(x, y, {seed: 7, resamples: 2000})
  assert.deepEqual(a, b)
  assert.ok(a.lo <= a.ratio && a.ratio <= a.hi)
  const c = bootstrapRatioOfMedians(x, y, {seed: 7, resamples: 2000, level: 0.5})
  assert.ok(c.lo >= a.lo && c.hi <= a.hi, 'a 50% interval is inside the 95% one')
})

test('a zero base median drops those resamples instead of producing Infinity', () => {
  const ci = bootstrapRatioOfMedians([0, 0, 0, 1, 2], [1, 1, 1, 1, 1], {resamples: 500})
  assert.ok(ci.dropped > 0)
  assert.ok(Number.isFinite(ci.lo) && Number.isFinite(ci.hi))
})

test('rejects bad options', () => {
  assert.throws(() => bootstrapRatioOfMedians(x, y, {resamples: 10}), /resamples/)
  assert.throws(() => bootstrapRatioOfMedians(x, y, {level: 1}), /level/)
  assert.throws(() => bootstrapRatioOfMedians([], y), /non-empty/)
})
