// Folding BatchNormalization and per-channel Mul/Add into the Conv before them must not change what the
// model computes (checked by onnxruntime on both graphs), and must leave alone what is not per-channel.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {encodeModel} from '../../src/models/onnx/proto.js'
import {makeTensor, makeValueInfo} from '../../src/models/onnx/tensor.js'
import {cloneModel} from '../../src/optimizers/onnx/graph.js'
import {foldIntoConv} from '../../src/optimizers/onnx/fold-conv.js'
import {runBytes, seeded} from '../support/ort-run.js'

/** x → Conv A (bias) → Mul s[1,4,1,1] → Add t[4,1,1] → Relu → Conv B (no bias) → BN → Mul by a [1,1,8,8] map → y */
function model() {
  const nodes = [
    makeNode('Conv', ['x', 'WA', 'BA'], ['a'], {kernel_shape: [3, 3], pads: [1, 1, 1, 1]}, 'convA'),
    makeNode('Mul', ['s', 'a'], ['am'], {}, 'scaleA'),
    makeNode('Add', ['am', 't'], ['aa'], {}, 'shiftA'),
    makeNode('Relu', ['aa'], ['r'], {}, 'relu'),
    makeNode('Conv', ['r', 'WB'], ['b'], {kernel_shape: [1, 1]}, 'convB'),
    makeNode('BatchNormalization', ['b', 'g', 'be', 'mu', 'var'], ['bn'], {epsilon: 1e-5}, 'bn'),
    makeNode('Mul', ['bn', 'map'], ['y'], {}, 'spatial'),
  ]
  return makeModel({
    name: 'fold',
    nodes,
    opset: 13,
    inputs: [makeValueInfo('x', 'float32', ['N', 2, 8, 8])],
    outputs: [makeValueInfo('y', 'float32', ['N', 3, 8, 8])],
    initializers: [
      makeTensor('WA', 'float32', [4, 2, 3, 3], seeded(72, 3)),
      makeTensor('BA', 'float32', [4], seeded(4, 4)),
      makeTensor('s', 'float32', [1, 4, 1, 1], Float32Array.from([0.5, 4, -2, 10])),
      makeTensor('t', 'float32', [4, 1, 1], Float32Array.from([1, -1, 0.25, 3])),
      makeTensor('WB', 'float32', [3, 4, 1, 1], seeded(12, 5)),
      makeTensor('g', 'float32', [3], Float32Array.from([1, 2, 0.5])),
      makeTensor('be', 'float32', [3], Float32Array.from([0, 0.1, -0.1])),
      makeTensor('mu', 'float32', [3], Float32Array.from([0.2, -0.3, 0])),
      makeTensor('var', 'float32', [3], Float32Array.from([1e6, 0.5, 2])),
      makeTensor('map', 'float32', [1, 1, 8, 8], seeded(64, 6)),
    ],
  })
}

test('foldIntoConv: Mul and Add per channel and BatchNormalization fold; a spatial Mul does not; outputs unchanged', async () => {
  const m = model()
  const f = cloneModel(m)
  assert.deepEqual(foldIntoConv(f), {batchNormalization: 1, mul: 1, add: 1})
  assert.deepEqual(
    f.graph!.node!.map((n) => n.opType),
    ['Conv', 'Relu', 'Conv', 'Mul'],
  )
  assert.equal(f.graph!.node![0]!.output![0], 'aa', 'the Conv now writes the last folded tensor')
  assert.ok(!f.graph!.initializer!.some((t) => ['s', 't', 'g', 'var'].includes(t.name!)), 'folded constants dropped')
  const x = {x: {type: 'float32', data: seeded(2 * 2 * 64, 7), dims: [2, 2, 8, 8]}}
  const a = (await runBytes(encodeModel(m), x)).y!.data as Float32Array
  const b = (await runBytes(encodeModel(f), x)).y!.data as Float32Array
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * Math.max(1, Math.abs(a[i]!)), `y[${i}] ${a[i]} vs ${b[i]}`)
})

test('foldIntoConv leaves a Conv whose output has a second reader', () => {
  const m = model()
  m.graph!.output!.push(makeValueInfo('a', 'float32', ['N', 4, 8, 8]))
  const f = cloneModel(m)
  assert.deepEqual(foldIntoConv(f), {batchNormalization: 1, mul: 0, add: 0})
})
