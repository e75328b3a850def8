// erfc and the normal tail against independent implementations: Python's math.erfc (libm) and
// scipy.stats.norm.sf, printed with repr(); plus the textbook quantiles 1.96 / 1.645 / 2.576.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {erf, erfc, normalCdf, normalSf} from '../../src/stats/normal.ts'

const close = (got: number, want: number, rel: number, what: string) =>
  assert.ok(want === 0 ? Math.abs(got) < 1e-300 : Math.abs(got - want) / Math.abs(want) <= rel, `${what}: got ${got}, want ${want}`)

// Python 3: math.erfc(x)
const ERFC: Array<[number, number]> = [
  [-2, 1.9953222650189528],
  [-0.5, 1.5204998778130465],
  [0, 1.0],
  [0.1, 0.8875370839817152],
  [0.5, 0.4795001221869535],
  [1, 0.15729920705028513],
  [1.5, 0.033894853524689274],
  [2, 0.004677734981047265],
  [2.4, 0.0006885138966450789],
  [2.5, 0.0004069520174449589],
  [3, 2.2090496998585438e-5],
  [4, 1.541725790028002e-8],
  [5, 1.5374597944280351e-12],
  [6, 2.1519736712498916e-17],
  [8, 1.1224297172982928e-29],
  [10, 2.088487583762545e-45],
  [15, 7.212994172451206e-100],
  [20, 5.3958656116079005e-176],
  [26, 5.663192408856143e-296],
]

// SciPy 1.17: scipy.stats.norm.sf(z)
const SF: Array<[number, number]> = [
  [-3, 0.9986501019683699],
  [-1.96, 0.9750021048517795],
  [0, 0.5],
  [1, 0.15865525393145707],
  [1.6448536269514722, 0.05],
  [1.96, 0.024997895148220435],
  [2.5758293035489004, 0.005],
  [3, 0.0013498980316300933],
  [5, 2.866515718791933e-7],
  [8, 6.22096057427174e-16],
  [10, 7.61985302416047e-24],
  [20, 2.7536241186061556e-89],
  [37, 5.7255712225239266e-300],
]

test('erfc matches libm to 1e-12 relative across the range, tails included', () => {
  for (const [x, want] of ERFC) close(erfc(x), want, 1e-12, `erfc(${x})`)
})

test('erf is odd and consistent with erfc', () => {
  for (const x of [0.05, 0.7, 1.3, 2.2, 3.1]) {
    close(erf(x), 1 - erfc(x), 1e-14, `erf(${x})`)
    assert.equal(erf(-x), -erf(x))
  }
  assert.ok(Number.isNaN(erfc(NaN)))
  assert.equal(erfc(40), 0)
  assert.equal(erfc(-40), 2)
})

test('normal upper tail matches SciPy to 1e-12 relative (down to 1e-300)', () => {
  for (const [z, want] of SF) close(normalSf(z), want, 1e-12, `sf(${z})`)
})

test('textbook quantiles: Φ(1.96) = 0.975, Φ(−1.645) = 0.05, Φ(0) = 0.5', () => {
  close(normalCdf(1.959963984540054), 0.975, 1e-12, 'Φ(1.96)')
  close(normalCdf(-1.6448536269514722), 0.05, 1e-12, 'Φ(−1.645)')
  assert.equal(normalCdf(0), 0.5)
  for (const z of [-4, -1, 0.3, 2.7]) close(normalCdf(z) + normalSf(z), 1, 1e-15, `Φ+sf at ${z}`)
})
