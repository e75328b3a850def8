/** Che's approximation against values worked by hand (docs/QUEUEING.md, "LRU of models"). */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cheLru, zipfPopularity} from '../../src/queueing/che.js'

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`)

test('uniform popularity: N(1 − e^(−T/N)) = C gives h_i = C/N exactly, so H = C/N', () => {
  const r = cheLru(Array(20).fill(1), 5)
  close(r.hitRatio, 0.25)
  // e^(−T/20) = 1 − 5/20 → T = −20 ln 0.75 = 5.753641449035618
  close(r.characteristicTime, -20 * Math.log(0.75), 1e-9)
  for (const h of r.perItem) close(h, 0.25)
})

test('Zipf s = 1 over 2 models, room for 1: x = e^(−T/3) solves x² + x − 1 = 0, x = (√5 − 1)/2', () => {
  const q = zipfPopularity(2, 1)
  close(q[0]!, 2 / 3)
  const r = cheLru(q, 1)
  const x = (Math.sqrt(5) - 1) / 2 // 0.6180339887
  close(r.perItem[0]!, 1 - x * x) // 0.6180339887
  close(r.perItem[1]!, 1 - x) // 0.3819660113
  close(r.hitRatio, (2 / 3) * (1 - x * x) + (1 / 3) * (1 - x)) // 0.5393446629
  close(r.hitRatio, 0.5393446629, 1e-9)
  close(r.characteristicTime, -3 * Math.log(x))
})

test('edges: all fit → H = 1; no room → H = 0; more skew → more hits; bad input refused', () => {
  assert.equal(cheLru(zipfPopularity(5, 1), 5).hitRatio, 1)
  assert.equal(cheLru(zipfPopularity(5, 1), 0).hitRatio, 0)
  const h = (s: number) => cheLru(zipfPopularity(20, s), 5).hitRatio
  assert.ok(h(0) < h(0.8) && h(0.8) < h(1.2))
  close(h(0), 0.25)
  assert.throws(() => cheLru([], 1), /empty/)
  assert.throws(() => zipfPopularity(0, 1), /positive integer/)
})
