import test from 'node:test'
import assert from 'node:assert/strict'
import {mainPrediction} from '../../src/report/rows.ts'
import type {PointResult} from '../../src/bench/result.ts'

const rows = [
  {model: 'MVA (1 server, exact)', quantity: 'meanLatency', predicted: 0.0088, relErr: 1.2, assumptionsViolated: []},
  {model: 'batching (greedy)', quantity: 'meanLatency', predicted: 0.0041, relErr: 0.03, assumptionsViolated: []},
  {model: 'Little', quantity: 'throughput', predicted: 4000, relErr: 0, assumptionsViolated: []},
]
const point = (batchSize: number) => ({queueing: rows, server: {batchSize}}) as unknown as PointResult

test('a point served one request at a time shows the first model whose assumptions hold', () => {
  assert.equal(mainPrediction(point(1))?.model, 'MVA (1 server, exact)')
})

test('a point whose server really batched shows the batching model', () => {
  assert.equal(mainPrediction(point(12.3))?.model, 'batching (greedy)')
})

test('without a batching row a batched point still shows a prediction', () => {
  const p = {queueing: [rows[0]], server: {batchSize: 12}} as unknown as PointResult
  assert.equal(mainPrediction(p)?.model, 'MVA (1 server, exact)')
})
