import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fitUsl, uslPeak, uslResponseTime, uslThroughput} from '../../src/queueing/usl.js'
import {parseUslData} from '../../src/queueing/usl-data.js'
import {TfsoptError} from '../../src/errors.js'

const close = (got: number, want: number, rel = 1e-4) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want} (rel ${rel})`)

// test-vectors.md: codahale/usl model_test.go data, fitted by SciPy least_squares.
const RAW = `1 955.16, 2 1878.91, 3 2688.01, 4 3548.68, 5 4315.54, 6 5130.43, 7 5931.37, 8 6531.08,
9 7219.8, 10 7867.61, 11 8278.71, 12 8646.7, 13 9047.84, 14 9426.55, 15 9645.37, 16 9897.24,
17 10097.6, 18 10240.5, 19 10532.39, 20 10798.52, 21 11151.43, 22 11518.63, 23 11806, 24 12089.37,
25 12075.41, 26 12177.29, 27 12211.41, 28 12158.93, 29 12155.27, 30 12118.04, 31 12140.4, 32 12074.39`
const POINTS = RAW.split(',')
  .map((s) => s.trim().split(/\s+/).map(Number))
  .map(([n, x]) => ({concurrency: n!, throughput: x!}))

test('USL three-parameter fit matches the SciPy reference (test-vectors.md, 1e-4 relative)', () => {
  const f = fitUsl(POINTS)
  close(f.sigma, 0.02671591)
  close(f.kappa, 7.690945e-4)
  close(f.lambda, 995.6486)
  assert.equal(f.nMax, 35)
  close(f.xMax!, 12341.7454)
  close(uslResponseTime(f, 1), 0.0010043703)
  close(uslResponseTime(f, 20), 0.0018077244)
  assert.ok(f.converged)
  assert.ok(f.contentionLimited)
  assert.equal(f.points.length, 32)
  assert.ok(f.stdErr.sigma !== null && f.stdErr.kappa !== null && f.stdErr.lambda !== null)
})

test('the fit recovers known parameters from noiseless USL data, including an Amdahl (κ = 0) case', () => {
  // Gunther, Guerrilla Capacity Planning ch. 4: κ = 0 is Amdahl's law, X → λ/σ.
  for (const truth of [
    {sigma: 0.05, kappa: 0, lambda: 100},
    {sigma: 0.1, kappa: 0.002, lambda: 50},
  ]) {
    const pts = [1, 2, 4, 8, 16, 24, 32, 48].map((n) => ({
      concurrency: n,
      throughput: (truth.lambda * n) / (1 + truth.sigma * (n - 1) + truth.kappa * n * (n - 1)),
    }))
    const f = fitUsl(pts)
    close(f.sigma, truth.sigma, 1e-5)
    close(f.lambda, truth.lambda, 1e-6)
    if (truth.kappa === 0) {
      assert.ok(f.kappa < 1e-9)
    } else close(f.kappa, truth.kappa, 1e-5)
  }
})

test('peak: N_max = floor(√((1−σ)/κ)); Amdahl has an asymptote λ/σ instead', () => {
  const p = uslPeak({sigma: 0.02, kappa: 0.0001, lambda: 1000})
  assert.equal(p.nMax, 98) // √(0.98/1e-4) = 98.99
  assert.equal(uslPeak({sigma: 0.05, kappa: 0, lambda: 100}).xMax, 2000)
  assert.equal(uslPeak({sigma: 0.05, kappa: 0, lambda: 100}).kind, 'asymptote')
  close(uslThroughput({sigma: 0, kappa: 0, lambda: 7}, 10), 70)
})

test('fewer than 6 points is a usage error saying how many are needed', () => {
  assert.throws(
    () => fitUsl(POINTS.slice(0, 5)),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE' && /at least 6/.test(e.message) && /got 5/.test(e.message),
  )
})

test('data parsing: CSV with and without header, JSON objects and pairs', () => {
  const want = [
    {concurrency: 1, throughput: 10},
    {concurrency: 2, throughput: 19.5},
  ]
  assert.deepEqual(parseUslData('concurrency,throughput\n1,10\n2,19.5\n'), want)
  assert.deepEqual(parseUslData('throughput;concurrency\n10;1\n19.5;2'), want)
  assert.deepEqual(parseUslData('1 10\n# comment\n2\t19.5'), want)
  assert.deepEqual(parseUslData('[{"concurrency":1,"throughput":10},{"concurrency":2,"throughput":19.5}]'), want)
  assert.deepEqual(parseUslData('[[1,10],[2,19.5]]'), want)
  assert.throws(
    () => parseUslData('1,10\n2,abc', 'f.csv'),
    (e: unknown) => e instanceof TfsoptError && /f\.csv line 2/.test(e.message),
  )
  assert.throws(() => parseUslData('{"a":1}'), TfsoptError)
  assert.throws(() => parseUslData(''), TfsoptError)
})
