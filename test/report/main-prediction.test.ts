import test from 'node:test'
import assert from 'node:assert/strict'
import {mainPrediction} from '../../src/report/rows.ts'
import type {PointResult} from '../../src/results/bench-run.ts'

const rows = [
  {kind: 'mva', model: 'MVA (1 server, exact)', quantity: 'meanLatency', predicted: 0.02, relErr: 2.9, assumptionsViolated: []},
  {kind: 'batching', model: 'batching (greedy)', quantity: 'meanLatency', predicted: 0.0002, relErr: -0.96, assumptionsViolated: []},
  {
    kind: 'batch-tandem-lone-client',
    model: 'batch tandem MVA (S_main at 1 client)',
    quantity: 'meanLatency',
    predicted: 0.012,
    relErr: 1.3,
    assumptionsViolated: ['measured throughput above the main thread capacity'],
  },
  {
    kind: 'batch-tandem-others',
    model: 'batch tandem MVA (S_main = 1/X of others)',
    quantity: 'meanLatency',
    predicted: 0.0055,
    relErr: 0.05,
    assumptionsViolated: [],
  },
  {kind: 'little', model: "Little's law X = N/(R+Z)", quantity: 'throughput', predicted: 6000, relErr: 0, assumptionsViolated: []},
]
const point = (maxBatchSize: number, mode: 'closed' | 'open' = 'closed', queueing: unknown[] = rows) =>
  ({queueing, config: {server: {maxBatchSize}, client: {mode}}}) as unknown as PointResult

test("a closed-loop point with batching on shows the batch tandem: the other points' calibration first, else the lone client's, violated or not", () => {
  assert.equal(mainPrediction(point(32))?.model, 'batch tandem MVA (S_main = 1/X of others)')
  assert.equal(
    mainPrediction(
      point(
        32,
        'closed',
        rows.filter((r) => !r.model.includes('of others')),
      ),
    )?.model,
    'batch tandem MVA (S_main at 1 client)',
  )
})

test('unbatched and open-loop points keep the first model whose assumptions hold', () => {
  assert.equal(mainPrediction(point(1))?.model, 'MVA (1 server, exact)')
  assert.equal(mainPrediction(point(32, 'open'))?.model, 'MVA (1 server, exact)')
})

test('a batched point without a tandem row (no server metrics) still shows a prediction; a cache mixture keeps precedence', () => {
  assert.equal(mainPrediction(point(32, 'closed', [rows[0]]))?.model, 'MVA (1 server, exact)')
  const cache = {
    kind: 'cache-mixture',
    model: 'cache mixture H·t_hit + (1−H)·t_miss',
    quantity: 'meanLatency',
    predicted: 0.001,
    relErr: 0.1,
    assumptionsViolated: [],
  }
  assert.equal(mainPrediction(point(32, 'closed', [cache, ...rows]))?.model, cache.model)
})
