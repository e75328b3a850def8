// IEEE 754 binary16 conversion: hand-checked vectors, then agreement with onnxruntime's Cast.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {float32ToFloat16Bits, float16BitsToFloat32Scalar, float16BitsToFloat32} from '../../src/models/onnx/tensor.js'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {makeValueInfo} from '../../src/models/onnx/tensor.js'
import {encodeModel} from '../../src/models/onnx/proto.js'
import {ort} from '../../src/runtime/onnx-session.js'

const VECTORS: [number, number][] = [
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.5, 0x3800],
  [0.1, 0x2e66],
  [1 / 3, 0x3555],
  [65504, 0x7bff], // largest finite half
  [65519, 0x7bff], // rounds down to max
  [65520, 0x7c00], // halfway to 2^16: rounds to even → infinity
  [2 ** -14, 0x0400], // smallest normal
  [2 ** -24, 0x0001], // smallest subnormal
  [2 ** -25, 0x0000], // exactly half the smallest subnormal: ties to even → 0
  [3 * 2 ** -26, 0x0001], // 0.75 ulp rounds up
  [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: to even (1)
  [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 and 1+2^-9: to even (…02)
  [Infinity, 0x7c00],
  [-Infinity, 0xfc00],
]

test('float32 → float16 bits: exact vectors incl. rounding ties, subnormals, overflow', () => {
  for (const [v, bits] of VECTORS) assert.equal(float32ToFloat16Bits(v), bits, `${v} → 0x${bits.toString(16)}`)
  const nan = float32ToFloat16Bits(NaN)
  assert.equal(nan & 0x7c00, 0x7c00)
  assert.ok((nan & 0x3ff) !== 0, 'NaN keeps a non-zero mantissa')
})

test('float16 bits → float32: exact values', () => {
  assert.equal(float16BitsToFloat32Scalar(0x3555), 0.333251953125)
  assert.equal(float16BitsToFloat32Scalar(0x7bff), 65504)
  assert.equal(float16BitsToFloat32Scalar(0x0001), 2 ** -24)
  assert.equal(float16BitsToFloat32Scalar(0x03ff), 1023 * 2 ** -24)
  assert.equal(float16BitsToFloat32Scalar(0xfc00), -Infinity)
  assert.ok(Number.isNaN(float16BitsToFloat32Scalar(0x7e00)))
  assert.ok(Object.is(float16BitsToFloat32Scalar(0x8000), -0))
  // Every finite half survives half → float → half unchanged.
  const all = Uint16Array.from({length: 0x10000}, (_, i) => i)
  const f = float16BitsToFloat32(all)
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue
    if (float32ToFloat16Bits(f[h]!) !== h) assert.fail(`0x${h.toString(16)} does not round-trip`)
  }
})

test('agrees bit for bit with onnxruntime Cast(float → float16) on 4096 values', async () => {
  const n = 4096
  const xs = new Float32Array(n)
  let s = 99
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0
    // Spread over many binades, incl. subnormal and overflowing magnitudes.
    xs[i] = (s & 1 ? -1 : 1) * 2 ** (((s >>> 8) % 44) - 28) * (1 + (s >>> 20) / 4096)
  }
  const m = makeModel({
    name: 'cast',
    inputs: [makeValueInfo('x', 'float32', [n])],
    outputs: [makeValueInfo('y', 'float16', [n])],
    initializers: [],
    nodes: [makeNode('Cast', ['x'], ['y'], {to: 10})],
  })
  const O = ort()
  const sess = await O.InferenceSession.create(encodeModel(m))
  const y = (await sess.run({x: new O.Tensor('float32', xs, [n])})).y!
  await sess.release()
  const bits = y.data as Uint16Array
  for (let i = 0; i < n; i++) assert.equal(float32ToFloat16Bits(xs[i]!), bits[i], `x=${xs[i]}`)
})
