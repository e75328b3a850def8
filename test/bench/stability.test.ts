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
