import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mulberry32, randomInt, randomNormal} from '../../src/stats/prng.ts'

test('mulberry32 is deterministic per seed and differs across seeds', () => {
  const a = mulberry32(42)
  const b = mulberry32(42)
  const c = mulberry32(43)
  const sa = Array.from({length: 5}, a)
  assert.deepEqual(sa, Array.from({length: 5}, b))
  assert.notDeepEqual(sa, Array.from({length: 5}, c))
})

test('uniform on [0, 1): mean ≈ 1/2, variance ≈ 1/12, and a χ² test over 10 bins passes', () => {
  const r = mulberry32(1)
  const n = 100_000
  const bins = new Array(10).fill(0)
  let sum = 0
  let sq = 0
  for (let i = 0; i < n; i++) {
    const u = r()
    assert.ok(u >= 0 && u < 1)
    sum += u
    sq += u * u
    bins[Math.floor(u * 10)]++
  }
  const mean = sum / n
  assert.ok(Math.abs(mean - 0.5) < 0.005)
  assert.ok(Math.abs(sq / n - mean * mean - 1 / 12) < 0.002)
  const chi2 = bins.reduce((s, o) => s + (o - n / 10) ** 2 / (n / 10), 0)
  assert.ok(chi2 < 27.88, `χ²(9) = ${chi2} (p < 0.001 cutoff 27.88)`)
})

test('randomInt stays in range; randomNormal has mean 0 and sd 1', () => {
  const r = mulberry32(3)
  for (let i = 0; i < 1000; i++) {
    const k = randomInt(r, 7)
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7)
  }
  const xs = Array.from({length: 50_000}, () => randomNormal(r))
  const m = xs.reduce((s, v) => s + v, 0) / xs.length
  const sd = Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / xs.length)
  assert.ok(Math.abs(m) < 0.02)
  assert.ok(Math.abs(sd - 1) < 0.02)
})
