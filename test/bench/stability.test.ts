import {test} from 'node:test'
import assert from 'node:assert/strict'
import {judgeStability} from '../../src/bench/stability.ts'

const w = (throughput: number, p99Ms: number) => ({throughput, p99Ms})

test('stable when the last three windows are within 10% on throughput and p99', () => {
  const v = judgeStability([w(50, 90), w(100, 10), w(105, 10.5), w(109, 10.9)], 10)
  assert.equal(v.stable, true)
  assert.ok(v.throughputSpreadPct <= 10)
})

test('exactly 10% (max/min = 1.10) counts as within; just above does not', () => {
  assert.equal(judgeStability([w(100, 10), w(110, 10), w(105, 10)], 10).stable, true)
  assert.equal(judgeStability([w(100, 10), w(110.2, 10), w(105, 10)], 10).stable, false)
})

test('p99 alone can make a point unstable', () => {
  const v = judgeStability([w(100, 10), w(100, 12), w(100, 10)], 10)
  assert.equal(v.stable, false)
  assert.ok(Math.abs(v.p99SpreadPct - 20) < 1e-9)
})

test('fewer windows than judged, or an empty window, is never stable', () => {
  assert.equal(judgeStability([w(100, 10), w(100, 10)], 10).stable, false)
  assert.equal(judgeStability([w(0, NaN), w(0, NaN), w(0, NaN)], 10).stable, false)
  assert.equal(judgeStability([w(100, 10), w(100, 10), w(100, 10)], 10, 3).stable, true)
  // A looser threshold accepts what a tight one rejects.
  assert.equal(judgeStability([w(100, 10), w(118, 10), w(100, 10)], 20).stable, true)
})

test('the mean-latency rule (perf_analyzer default) ignores a jumpy p99 that the p99 rule refuses', () => {
  const ws = [
    {throughput: 100, p99Ms: 10, meanMs: 2},
    {throughput: 104, p99Ms: 30, meanMs: 2.1},
    {throughput: 102, p99Ms: 12, meanMs: 2.05},
  ]
  const mean = judgeStability(ws, 10, 3, 'mean')
  assert.equal(mean.stable, true)
  assert.equal(mean.latency, 'mean')
  assert.ok(Math.abs(mean.meanSpreadPct! - 5) < 1e-9)
  assert.equal(judgeStability(ws, 10, 3, 'p99').stable, false)
  // Mean latency 2 → 2.3 (+15%) fails the mean rule too.
  assert.equal(judgeStability([ws[0]!, ws[1]!, {throughput: 101, p99Ms: 10, meanMs: 2.3}], 10, 3, 'mean').stable, false)
})

test('count windows: the duration stretches to hold the requested count at the warm-up rate, capped at 10×', async () => {
  const {windowLength} = await import('../../src/bench/measure-point.ts')
  assert.equal(windowLength({windowS: 1, minWindowRequests: 200}, 4000, 1), 1) // 4000/s: 1 s holds 4000
  assert.equal(windowLength({windowS: 1, minWindowRequests: 200}, 40, 1), 5) // 40/s: 5 s for 200
  assert.equal(windowLength({windowS: 1, minWindowRequests: 200}, 2, 1), 10) // capped
  assert.equal(windowLength({windowS: 2, minWindowRequests: 0}, 2, 1), 2) // off
  assert.equal(windowLength({windowS: 2, minWindowRequests: 200}, 0, 1), 2) // no warm-up rate
})
