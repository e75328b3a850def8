// Small models built with tfsopt's own builder, and temp dirs, for the optimiser tests.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {encodeModel} from '../../src/models/onnx/proto.js'
import {makeTensor, makeValueInfo} from '../../src/models/onnx/tensor.js'

export const tmp = (p = 'tfsopt-opt-test-') => mkdtempSync(join(tmpdir(), p))

function rand(n: number, seed: number, scale = 0.3): Float32Array {
  let s = seed
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = (s / 4294967296 - 0.5) * 2 * scale
  }
  return out
}

/** [N,1,8,8] → Conv(4×1×3×3, pad 1) → Relu → Flatten → Gemm(transB, 10×256) → out [N,10]. */
export function writeConvModel(path: string): string {
  const nodes = [
    makeNode('Conv', ['x', 'W1', 'B1'], ['c1'], {kernel_shape: [3, 3], pads: [1, 1, 1, 1]}, 'conv1'),
    makeNode('Relu', ['c1'], ['r1'], {}, 'relu1'),
    makeNode('Flatten', ['r1'], ['f1'], {axis: 1}, 'flatten'),
    makeNode('Gemm', ['f1', 'W2', 'B2'], ['y'], {transB: 1}, 'fc'),
  ]
  const model = makeModel({
    name: 'conv-test',
    nodes,
    opset: 13,
    inputs: [makeValueInfo('x', 'float32', ['N', 1, 8, 8])],
    outputs: [makeValueInfo('y', 'float32', ['N', 10])],
    initializers: [
      makeTensor('W1', 'float32', [4, 1, 3, 3], rand(36, 1, 0.5)),
      makeTensor('B1', 'float32', [4], rand(4, 2, 0.1)),
      makeTensor('W2', 'float32', [10, 256], rand(2560, 3, 0.1)),
      makeTensor('B2', 'float32', [10], rand(10, 4, 0.1)),
    ],
  })
  writeFileSync(path, encodeModel(model))
  return path
}

/** A model with no weights at all: y = Relu(x). */
export function writeNoWeightModel(path: string): string {
  const model = makeModel({
    name: 'relu',
    nodes: [makeNode('Relu', ['x'], ['y'], {}, 'relu')],
    inputs: [makeValueInfo('x', 'float32', ['N', 4])],
    outputs: [makeValueInfo('y', 'float32', ['N', 4])],
    initializers: [],
  })
  writeFileSync(path, encodeModel(model))
  return path
}

export const MLP = 'fixtures/models/mnist-mlp.onnx'
export const CNN = 'fixtures/models/mnist-cnn.onnx'
export const MLP_TFJS = 'fixtures/models/mnist-mlp-tfjs'
export const EVAL = 'fixtures/data/mnist-eval.json'

/**
 * [N,1,8,8] → Conv(4×1×3×3, pad 1, bias [2, 0.1, −0.1, 0.2]) → out [N,4,8,8], with filter 0 all but dead
 * (weights 1e-30): its output is its bias, 2.0, everywhere. A naive int32 bias overflows and loses it.
 */
export function writeDeadFilterModel(path: string): string {
  const w = rand(36, 5, 0.5)
  for (let i = 0; i < 9; i++) w[i] = 1e-30 * (i % 2 ? 1 : -1)
  const model = makeModel({
    name: 'dead-filter',
    nodes: [makeNode('Conv', ['x', 'W', 'B'], ['y'], {kernel_shape: [3, 3], pads: [1, 1, 1, 1]}, 'conv')],
    opset: 13,
    inputs: [makeValueInfo('x', 'float32', ['N', 1, 8, 8])],
    outputs: [makeValueInfo('y', 'float32', ['N', 4, 8, 8])],
    initializers: [makeTensor('W', 'float32', [4, 1, 3, 3], w), makeTensor('B', 'float32', [4], Float32Array.from([2, 0.1, -0.1, 0.2]))],
  })
  writeFileSync(path, encodeModel(model))
  return path
}

/** n JSON-lines instances of a [channels, 8, 8] image in [0, 1), seeded from `seed`. */
export function writeImageInputs(path: string, n: number, channels: number, seed: number): string {
  const rows: string[] = []
  for (let k = 0; k < n; k++) {
    const v = rand(channels * 64, seed + k, 0.5)
    rows.push(
      JSON.stringify(
        Array.from({length: channels}, (_, c) => Array.from({length: 8}, (_, h) => Array.from(v.subarray(c * 64 + h * 8, c * 64 + h * 8 + 8), (x) => x + 0.5))),
      ),
    )
  }
  writeFileSync(path, `${rows.join('\n')}\n`)
  return path
}

/**
 * PP-OCR's detector head in miniature: [N,1,8,8] → Conv(4 filters, weights up to ±8000, so outputs pass
 * ~1e4) → BatchNormalization(variance 1e7–1e8, which float16 would clamp to 1e4) → Relu → ×0.5 → y, and y also
 * feeds Neg → z (a graph output read by another node). float16 must keep the Conv and the BN in float32.
 */
export function writeHugeBnModel(path: string): string {
  const w = rand(36, 9, 8000)
  const nodes = [
    makeNode('Conv', ['x', 'W'], ['c'], {kernel_shape: [3, 3], pads: [1, 1, 1, 1]}, 'conv'),
    makeNode('BatchNormalization', ['c', 'gamma', 'beta', 'mean', 'var'], ['b'], {epsilon: 1e-5}, 'bn'),
    makeNode('Relu', ['b'], ['r'], {}, 'relu'),
    makeNode('Mul', ['r', 'half'], ['y'], {}, 'scale'),
    makeNode('Neg', ['y'], ['z'], {}, 'neg'),
  ]
  const model = makeModel({
    name: 'huge-bn',
    nodes,
    opset: 13,
    inputs: [makeValueInfo('x', 'float32', ['N', 1, 8, 8])],
    outputs: [makeValueInfo('y', 'float32', ['N', 4, 8, 8]), makeValueInfo('z', 'float32', ['N', 4, 8, 8])],
    initializers: [
      makeTensor('W', 'float32', [4, 1, 3, 3], w),
      makeTensor('half', 'float32', [], [0.5]),
      makeTensor('gamma', 'float32', [4], Float32Array.from([1, 0.8, 1.2, 0.9])),
      makeTensor('beta', 'float32', [4], Float32Array.from([0.1, -0.2, 0.3, 0])),
      makeTensor('mean', 'float32', [4], Float32Array.from([500, -300, 100, 0])),
      makeTensor('var', 'float32', [4], Float32Array.from([1e7, 4e7, 9e7, 2e7])),
    ],
  })
  writeFileSync(path, encodeModel(model))
  return path
}

/**
 * [N,8,8,8] → conv0 → conv1 → (convb1, convb2: both read conv1's output) → Add → conv2 → y. A tensor
 * read by two ops is where onnxruntime's CPU provider stops fusing int8-activation QDQ graphs.
 */
export function writeSharedReaderModel(path: string): string {
  const conv = (x: string, w: string, y: string, k: number) =>
    makeNode('Conv', [x, w], [y], {kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0]}, y)
  const model = makeModel({
    name: 'shared-reader',
    opset: 13,
    nodes: [
      conv('x', 'W0', 'c0', 3),
      conv('c0', 'W1', 'c1', 3),
      conv('c1', 'Wa', 'ba', 1),
      conv('c1', 'Wb', 'bb', 1),
      makeNode('Add', ['ba', 'bb'], ['s'], {}, 'sum'),
      conv('s', 'W2', 'y', 1),
    ],
    inputs: [makeValueInfo('x', 'float32', ['N', 8, 8, 8])],
    outputs: [makeValueInfo('y', 'float32', ['N', 8, 8, 8])],
    initializers: [
      makeTensor('W0', 'float32', [8, 8, 3, 3], rand(576, 21)),
      makeTensor('W1', 'float32', [8, 8, 3, 3], rand(576, 22)),
      makeTensor('Wa', 'float32', [8, 8, 1, 1], rand(64, 23)),
      makeTensor('Wb', 'float32', [8, 8, 1, 1], rand(64, 24)),
      makeTensor('W2', 'float32', [8, 8, 1, 1], rand(64, 25)),
    ],
  })
  writeFileSync(path, encodeModel(model))
  return path
}
