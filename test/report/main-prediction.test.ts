import test from 'node:test'
import assert from 'node:assert/strict'
import {mainPrediction} from '../../src/report/rows.ts'
import {pointPrediction} from '../../src/results/main-prediction.ts'
import {finalizeRun} from '../../src/bench/finalize.ts'
import {renderTable} from '../../src/report/table.ts'
import {sampleRun} from './sample-run.ts'
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

test("each point's prediction summary: the shown model, its throughput where it predicts one, and calibration only on the point it was calibrated on", () => {
  const mva = [
    {kind: 'mva', model: 'MVA (1 server, exact)', quantity: 'throughput', predicted: 2364, relErr: -0.7, assumptionsViolated: []},
    {kind: 'mva', model: 'MVA (1 server, exact)', quantity: 'meanLatency', predicted: 0.0034, relErr: 2.48, assumptionsViolated: []},
  ]
  const at = (id: string, queueing: unknown[]) => ({id, queueing, config: {server: {}, client: {mode: 'closed'}}}) as unknown as PointResult
  assert.deepEqual(pointPrediction(at('c=1', mva), 'c=1'), {model: 'MVA (1 server, exact)', meanMs: 3.4, throughput: 2364, calibration: true})
  assert.equal(pointPrediction(at('c=8', mva), 'c=1')?.calibration, false)
  // A row without a throughput twin predicts no throughput (null, not a borrowed figure).
  assert.equal(pointPrediction(at('c=8', [mva[1]]), 'c=1')?.throughput, null)
  // The cache mixture is fitted on the other points: even at the lone client it is a forecast.
  const cache = {kind: 'cache-mixture', model: 'cache mixture', quantity: 'meanLatency', predicted: 0.001, relErr: 0.1, assumptionsViolated: []}
  assert.equal(pointPrediction(at('c=1', [cache, ...mva]), 'c=1')?.calibration, false)
  assert.equal(pointPrediction(at('c=1', []), 'c=1'), undefined)
})

test('finalize stores the summary on every predicted point, and the table shows the calibration point as such, not as 0% error', () => {
  const run = sampleRun()
  for (const p of run.points) {
    delete p.prediction
    delete p.queueing
  }
  finalizeRun(run, {modelArg: 'm.onnx', cores: 2, workersOf: () => 1})
  // One calibration point per server setting (group): its lone client.
  const cal = run.points.filter((p) => p.prediction?.calibration)
  assert.equal(cal.length, new Set(run.points.map((p) => p.group)).size)
  for (const p of cal) assert.equal(p.config.client.concurrency, 1)
  assert.ok(run.points.filter((p) => p.prediction && !p.prediction.calibration).length >= 3)
  const table = renderTable(run)
  assert.match(table, /calibration point/)
})
