// A model with fixed input shapes (no free batch) and two activation inputs: the ONNX conformance
// MatMul test, [1,2,3,4] × [1,2,4,3]. With no data the synthetic inputs, the probe and every run must
// use the model's fixed first dimension, and a mode with nothing to quantise must say so up front.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {pruneModel} from '../../src/optimizers/service/prune.js'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {encodeModel, readModel} from '../../src/models/onnx/proto.js'
import {makeValueInfo, tensorDType} from '../../src/models/onnx/tensor.js'
import {TfsoptError} from '../../src/errors.js'
import {tmp} from './helpers.js'

const dir = tmp()
const src = join(dir, 'matmul-4d.onnx')
writeFileSync(
  src,
  encodeModel(
    makeModel({
      name: 'test_matmul_4d',
      opset: 13,
      nodes: [makeNode('MatMul', ['a', 'b'], ['c'], {}, 'matmul')],
      inputs: [makeValueInfo('a', 'float32', [1, 2, 3, 4]), makeValueInfo('b', 'float32', [1, 2, 4, 3])],
      outputs: [makeValueInfo('c', 'float32', [1, 2, 3, 3])],
      initializers: [],
    }),
  ),
)

const nothing = (mode: string) => (e: unknown) =>
  e instanceof TfsoptError && e.code === 'E_UNSUPPORTED' && new RegExp(`nothing in .* can be quantised with --mode ${mode}`).test(e.message)

test('dynamic, no data: says nothing can be quantised (no weight), not a data error', async () => {
  const out = join(dir, 'dyn.onnx')
  await assert.rejects(quantizeModel({input: src, out, mode: 'dynamic', latencyBatches: [1]}), nothing('dynamic'))
  assert.equal(existsSync(out), false)
})

test('weight-only, no data: says nothing can be quantised', async () => {
  await assert.rejects(quantizeModel({input: src, out: join(dir, 'wo.onnx'), mode: 'weight-only', latencyBatches: [1]}), nothing('weight-only'))
})

test('static: asks for calibration data without it; with it, says nothing can be quantised', async () => {
  await assert.rejects(
    quantizeModel({input: src, out: join(dir, 'st.onnx'), mode: 'static', latencyBatches: [1]}),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE' && /needs --calibration-data/.test(e.message),
  )
  const data = join(dir, 'ab.jsonl')
  const fill = (n: number, k: number) => Array.from({length: n}, (_, i) => ((i * 7 + k) % 11) / 10 - 0.5)
  const nest = (flat: number[], dims: number[]): unknown =>
    dims.length === 1
      ? flat
      : Array.from({length: dims[0]!}, (_, i) => nest(flat.slice((i * flat.length) / dims[0]!, ((i + 1) * flat.length) / dims[0]!), dims.slice(1)))
  const rows = Array.from({length: 4}, (_, k) => JSON.stringify({a: nest(fill(24, k), [2, 3, 4]), b: nest(fill(24, k + 3), [2, 4, 3])}))
  writeFileSync(data, `${rows.join('\n')}\n`)
  await assert.rejects(quantizeModel({input: src, out: join(dir, 'st.onnx'), mode: 'static', calibrationData: data, latencyBatches: [1]}), nothing('static'))
})

test('float16, no data: converts, runs on synthetic inputs of the fixed shape, float32 I/O kept', async () => {
  const out = join(dir, 'fp16.onnx')
  const r = await quantizeModel({input: src, out, mode: 'float16', latencyBatches: [1, 32]})
  assert.deepEqual(
    r.changed.map((c) => c.node),
    ['matmul'],
  )
  // 32 synthetic samples of [1,2,3,4] and [1,2,4,3], run one at a time as the fixed shape requires
  assert.equal(r.measurement.fidelity.samples, 32)
  // (onnxruntime's CPU provider may run a float16 MatMul in float32 between Casts it inserts, so the error can be 0)
  assert.ok(r.measurement.fidelity.maxAbsError < 0.01, `max abs err ${r.measurement.fidelity.maxAbsError}`)
  // a fixed batch of 1 can only be timed at batch 1
  assert.deepEqual(
    r.measurement.latency.map((l) => l.batch),
    [1],
  )
  const m = readModel(out)
  assert.deepEqual(
    m.graph!.input.map((v) => v.name),
    ['a', 'b'],
  )
  assert.ok(m.graph!.node.some((n) => n.opType === 'Cast'))
  assert.equal(m.graph!.initializer.filter((t) => tensorDType(t) === 'float32').length, 0)
})

test('prune, no data: says there is nothing to prune (no weights), not a data error', async () => {
  await assert.rejects(
    pruneModel({input: src, out: join(dir, 'pr.onnx'), sparsity: 0.5, method: 'magnitude', scope: 'layer', latencyBatches: [1]}),
    (e: unknown) => e instanceof TfsoptError && /nothing in .* can be pruned/.test(e.message),
  )
})
