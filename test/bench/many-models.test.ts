/** The pure parts of `tfsopt bench --models`: popularity, the draw, the per-point summary, the renderers. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {drawIndex, percentile, popularityShares, renderManyModelsMarkdown, renderManyModelsTable, summarisePoint} from '../../src/bench/many-models.ts'
import type {ManyModelsRun} from '../../src/bench/many-models.ts'
import {mulberry32} from '../../src/stats/prng.ts'

test('popularity: uniform is 1/N each; Zipf s = 1 over 3 is 6/11, 3/11, 2/11', () => {
  assert.deepEqual(popularityShares('uniform', 4, 1), [0.25, 0.25, 0.25, 0.25])
  const z = popularityShares('zipf', 3, 1)
  for (const [i, want] of [6 / 11, 3 / 11, 2 / 11].entries()) assert.ok(Math.abs(z[i]! - want) < 1e-12)
})

test('drawIndex follows the shares (inverse CDF): 20 000 draws of 0.5/0.3/0.2 within 2 points each', () => {
  const rand = mulberry32(7)
  const counts = [0, 0, 0]
  for (let i = 0; i < 20_000; i++) counts[drawIndex([0.5, 0.3, 0.2], rand)]!++
  for (const [i, want] of [0.5, 0.3, 0.2].entries()) assert.ok(Math.abs(counts[i]! / 20_000 - want) < 0.02, `index ${i}: ${counts[i]}`)
})

test('percentile is nearest-rank; NaN for no samples', () => {
  const xs = Array.from({length: 100}, (_, i) => 100 - i)
  assert.equal(percentile(xs, 0.99), 99)
  assert.equal(percentile(xs, 0.5), 50)
  assert.ok(Number.isNaN(percentile([], 0.99)))
})

test('summarisePoint: hits, colds and failures add up; hit ratio over the successful; Che for the capacity', () => {
  const samples = [
    {ms: 5, status: 200, cold: false},
    {ms: 6, status: 200, cold: false},
    {ms: 7, status: 200, cold: false},
    {ms: 400, status: 200, cold: true},
    {ms: 30, status: 503, cold: false},
  ]
  const p = summarisePoint(samples, [0.25, 0.25, 0.25, 0.25], 2, 1, 2)
  assert.equal(p.requests, 5)
  assert.equal(p.hits + p.coldStarts + p.failed, p.requests)
  assert.deepEqual([p.hits, p.coldStarts, p.failed], [3, 1, 1])
  assert.equal(p.hitRatio, 0.75)
  // Uniform popularity: Che's LRU hit ratio is exactly C/N.
  assert.ok(Math.abs(p.cheHitRatio - 0.5) < 1e-9)
  assert.equal(p.steadyP99Ms, 7)
  assert.equal(p.coldP99Ms, 400)
  assert.equal(p.throughput, 2.5)
})

test('the table and the Markdown report carry the measured and the predicted hit ratio', () => {
  const point = summarisePoint([{ms: 5, status: 200, cold: false}], [0.5, 0.5], 1, 1, 1)
  const run: ManyModelsRun = {
    schema: 'tfsopt-bench-many-models/1',
    startedAt: '2026-01-01T00:00:00Z',
    target: {url: 'http://x', builtIn: false},
    models: ['a', 'b'],
    popularity: 'uniform',
    zipfS: 0,
    fit: 1,
    loadAverage: [1, 1],
    points: [point],
  }
  for (const text of [renderManyModelsTable(run), renderManyModelsMarkdown(run)]) {
    assert.match(text, /Che hit ratio/)
    assert.match(text, /1\.000/)
    assert.match(text, /0\.500/)
    assert.match(text, /uniform popularity, a budget for 1/)
  }
})
