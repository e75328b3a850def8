import {test} from 'node:test'
import assert from 'node:assert/strict'
import {articleCacheForm, cacheCapacity, cacheLatency} from '../../src/queueing/cache.js'
import {ARTICLE_FORMULAS, compareCache, compareLoadBalancing, comparePreprocessing, compareQuantisation} from '../../src/queueing/articles.js'

const close = (got: number, want: number, rel = 1e-12) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want}`)

test('cache mixture H·t_hit + (1−H)·t_miss and the capacity gain', () => {
  close(cacheLatency(0.8, 0.0002, 0.012), 0.8 * 0.0002 + 0.2 * 0.012)
  assert.equal(cacheLatency(0, 0.001, 0.01), 0.01)
  assert.equal(cacheLatency(1, 0.001, 0.01), 0.001)
  close(cacheCapacity(0.5, 0, 0.01, 2).gain, 2)
  close(cacheCapacity(0.5, 0, 0.01, 2).capacity, 400)
})

test("the article's cache form mixes units: its value changes with the time unit and blows up as H → 0", () => {
  const inSeconds = articleCacheForm(0.5, 0.012)
  const inMillis = articleCacheForm(0.5, 12)
  assert.notEqual(inSeconds * 1000, inMillis)
  assert.equal(articleCacheForm(0, 0.012), Infinity)
  const cmp = compareCache(0.8, 0.2, 12)
  close(cmp.correct, 2.56)
  close(cmp.article, 12 * 0.2 + 1.25)
  assert.ok(cmp.relDiff !== null && cmp.relDiff > 0.4)
})

test('article table covers every row of queueing.md and each comparison differs where it should', () => {
  const ids = ARTICLE_FORMULAS.map((a) => a.id)
  for (const id of ['throughput-efficiency', 'cache', 'load-balancing', 'node-load', 'preprocessing', 'quantisation', 'result-tables'])
    assert.ok(ids.includes(id as never), id)
  assert.equal(compareLoadBalancing(100, 4).correct, 400)
  assert.equal(compareLoadBalancing(100, 4).article, 25)
  close(comparePreprocessing(10, 0.5).correct, 5)
  // x = 0.37, Δ = 0.1: code 4, x̂ = 0.4, error 0.03 ≤ Δ/2; the article's |4 − 0.37| = 3.63.
  const q = compareQuantisation(0.37, 0.1)
  close(q.correct, 0.03, 1e-9)
  close(q.article, 3.63, 1e-9)
})
