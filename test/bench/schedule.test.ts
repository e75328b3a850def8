import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mulberry32, scheduleOffsets, Schedule} from '../../src/bench/schedule.ts'

test('constant schedule: exactly i/rate', () => {
  const t = scheduleOffsets(250, 'constant', 1000)
  t.forEach((x, i) => assert.ok(Math.abs(x - i / 250) < 1e-9, `offset ${i}: ${x}`))
})

test('Poisson schedule: exponential gaps with mean 1/rate and variance 1/rate² (seeded)', () => {
  const rate = 200
  const n = 50_000
  const t = scheduleOffsets(rate, 'poisson', n, 123)
  const gaps = t.map((x, i) => (i === 0 ? x : x - t[i - 1]!))
  const mean = gaps.reduce((a, b) => a + b, 0) / n
  const v = gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)
  // Standard error of the mean is (1/rate)/√n ≈ 0.45% of the mean: 2% is > 4 SE.
  assert.ok(Math.abs(mean * rate - 1) < 0.02, `mean gap × rate = ${mean * rate}`)
  assert.ok(Math.abs(v * rate * rate - 1) < 0.05, `var × rate² = ${v * rate * rate}`)
  assert.ok(gaps.every((g) => g > 0))
  // Reproducible: same seed, same schedule; other seed, another.
  assert.deepEqual(scheduleOffsets(rate, 'poisson', 10, 123), t.slice(0, 10))
  assert.notDeepEqual(scheduleOffsets(rate, 'poisson', 10, 124), t.slice(0, 10))
})

test('streaming Schedule agrees with scheduleOffsets', () => {
  const s = new Schedule(50, 'poisson', 9)
  const ref = scheduleOffsets(50, 'poisson', 20, 9)
  for (const x of ref) {
    assert.equal(s.peek(), x)
    assert.equal(s.next(), x)
  }
})

test('mulberry32 stays in [0,1) and rejects bad rates', () => {
  const r = mulberry32(5)
  for (let i = 0; i < 1000; i++) {
    const x = r()
    assert.ok(x >= 0 && x < 1)
  }
  assert.throws(() => scheduleOffsets(0, 'constant', 1), /rate must be positive/)
})
