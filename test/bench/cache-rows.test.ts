// The cache model rows bench adds (src/bench/models.ts cacheRows): t_hit and t_miss fitted on the other
// repeat ratios of a group, the mixture predicted for each point, the article's form beside it.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cacheRows} from '../../src/bench/models.ts'
import type {PointResult} from '../../src/results/bench-run.ts'

const T_HIT = 0.0002
const T_MISS = 0.0012

function point(repeatRatio: number, h: number | undefined, meanS: number, o: {cacheSize?: number; concurrency?: number; failed?: string} = {}): PointResult {
  const server = {cacheSize: o.cacheSize ?? 1000}
  const client = {mode: 'closed' as const, concurrency: o.concurrency ?? 1, clientBatch: 1, repeatRatio}
  return {
    id: `model=m,cache=${server.cacheSize},c=${client.concurrency},batch=1,repeat=${repeatRatio}`,
    config: {model: 'm', server, client},
    stable: true,
    ...(o.failed ? {failed: o.failed} : {}),
    windows: [],
    throughput: 1 / meanS,
    inferencesPerSec: 1 / meanS,
    latency: {meanMs: meanS * 1000, stdevMs: 0, minMs: 0, maxMs: 0, p50Ms: 0, p90Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0},
    errors: {non2xx: 0, timeouts: 0, connection: 0, total: 0},
    server: h === undefined ? {} : {cacheHitRatio: h},
  }
}
const mix = (h: number) => h * T_HIT + (1 - h) * T_MISS

test('exact mixture data: each point is predicted from the others with no error; the article form is far off', () => {
  const pts = [0, 0.3, 0.6, 1].map((h) => point(h, h, mix(h)))
  const rows = cacheRows(pts)
  assert.equal(rows.size, 4)
  for (const p of pts) {
    const [m, art] = rows.get(p.id)!
    assert.match(m!.model, /H·t_hit \+ \(1−H\)·t_miss/)
    assert.ok(Math.abs(m!.relErr!) < 1e-9, `${p.id}: ${m!.relErr}`)
    assert.match(m!.note!, /t_hit = 0\.200 ms, t_miss = 1\.200 ms fitted on the 3 other/)
    assert.deepEqual(m!.assumptionsViolated, [])
    assert.match(art!.model, /L\(1−H\) \+ 1\/H/)
    if (p.config.client.repeatRatio === 0)
      assert.equal(art!.predicted, null) // 1/H at H = 0
    else assert.ok(Math.abs(art!.relErr!) > 10, `article form off by ${art!.relErr}`) // 1/H seconds vs ~1 ms
  }
})

test('no rows without a cache, without hit ratios, with too few points or too narrow a spread of H', () => {
  assert.equal(cacheRows([0, 0.5, 1].map((h) => point(h, h, mix(h), {cacheSize: 0}))).size, 0)
  assert.equal(cacheRows([0, 0.5, 1].map((h) => point(h, undefined, mix(h)))).size, 0)
  assert.equal(cacheRows([0, 1].map((h) => point(h, h, mix(h)))).size, 0)
  assert.equal(cacheRows([0, 0.05, 0.1].map((h) => point(h, h, mix(h)))).size, 0)
  // Failed points are left out of the fit and get no row.
  const withFailed = [...[0, 0.5, 1].map((h) => point(h, h, mix(h))), point(0.75, 0.75, 1, {failed: 'server exited'})]
  assert.equal(cacheRows(withFailed).size, 3)
})

test('points at different loads are separate groups; above one client the queueing caveat is attached', () => {
  const pts = [...[0, 0.5, 1].map((h) => point(h, h, mix(h))), ...[0, 0.5, 1].map((h) => point(h, h, 2 * mix(h), {concurrency: 4}))]
  const rows = cacheRows(pts)
  assert.equal(rows.size, 6)
  for (const p of pts.slice(3)) {
    const [m] = rows.get(p.id)!
    assert.ok(Math.abs(m!.relErr!) < 1e-9)
    assert.match(m!.assumptionsViolated[0]!, /closed loop above one client/)
  }
})

test("fresh bodies continue across points (freshStart): the next point never re-sends an earlier point's body", async () => {
  const {BodySource, samplesFromSignature} = await import('../../src/bench/body-source.ts')
  const samples = samplesFromSignature([{name: 'x', dtype: 'DT_FLOAT', dims: [-1, 4]}] as never, 8)
  const a = new BodySource(samples, {clientBatch: 1, repeatRatio: 0, seed: 1})
  const first = new Set(Array.from({length: 500}, () => a.next()))
  assert.equal(first.size, 500)
  // Same seed, as the engine uses for every point of a repeat: without freshStart the bodies would recur.
  const again = new BodySource(samples, {clientBatch: 1, repeatRatio: 0, seed: 1})
  assert.ok(first.has(again.next()), 'a new source restarts the sequence')
  const b = new BodySource(samples, {clientBatch: 1, repeatRatio: 0.5, seed: 1, freshStart: a.freshEnd})
  for (let i = 0; i < 500; i++) assert.ok(!first.has(b.next()), 'a body of the previous point was re-sent')
})
