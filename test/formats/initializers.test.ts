// ONNX initializers may hold their values in raw_data or in the typed repeated fields; both must decode
// the same, run the same in onnxruntime, and survive a round trip in the form they were stored.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {decodeModel, encodeModel, newTensor} from '../../src/models/onnx/proto.js'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {makeTensor, makeValueInfo, tensorToHost, tensorToFloat32} from '../../src/models/onnx/tensor.js'
import {ort} from '../../src/runtime/onnx-session.js'

const W = [0.5, -1.25, 2, 3.5, -0.125, 8]
const B = [1, 2, 3]

function model(typed: boolean) {
  const w = typed ? newTensor({name: 'w', dataType: 1, dims: [2n, 3n], floatData: W}) : makeTensor('w', 'float32', [2, 3], W)
  const b = typed ? newTensor({name: 'b', dataType: 7, dims: [3n], int64Data: B.map(BigInt)}) : makeTensor('b', 'int64', [3], B)
  return makeModel({
    name: 'init',
    inputs: [makeValueInfo('x', 'float32', ['batch', 2])],
    outputs: [makeValueInfo('y', 'float32', ['batch', 3])],
    initializers: [w, b],
    nodes: [makeNode('Cast', ['b'], ['bf'], {to: 1}), makeNode('MatMul', ['x', 'w'], ['mm']), makeNode('Add', ['mm', 'bf'], ['y'])],
  })
}

async function run(bytes: Uint8Array): Promise<number[]> {
  const O = ort()
  const s = await O.InferenceSession.create(bytes)
  const r = await s.run({x: new O.Tensor('float32', Float32Array.from([1, 2, -1, 0.5]), [2, 2])})
  await s.release()
  return Array.from(r.y!.data as Float32Array)
}

test('raw_data and typed-field initializers decode to the same values', () => {
  const raw = model(false).graph!.initializer!
  const typed = model(true).graph!.initializer!
  assert.ok(raw[0]!.rawData!.length > 0 && !typed[0]!.rawData?.length)
  assert.deepEqual(Array.from(tensorToFloat32(raw[0]!)), W)
  assert.deepEqual(Array.from(tensorToFloat32(typed[0]!)), W)
  assert.deepEqual(tensorToHost(raw[1]!).data, BigInt64Array.from(B.map(BigInt)))
  assert.deepEqual(tensorToHost(typed[1]!).data, BigInt64Array.from(B.map(BigInt)))
})

test('both storages run the same in onnxruntime, and a round trip keeps each storage', async () => {
  const rawBytes = encodeModel(model(false))
  const typedBytes = encodeModel(model(true))
  // x = [[1,2],[-1,0.5]]: row 0 = [1*0.5+2*3.5, 1*-1.25+2*-0.125, 1*2+2*8] + b
  const expected = [0.5 + 7 + 1, -1.25 - 0.25 + 2, 2 + 16 + 3, -0.5 + 1.75 + 1, 1.25 - 0.0625 + 2, -2 + 4 + 3]
  assert.deepEqual(await run(rawBytes), expected)
  assert.deepEqual(await run(typedBytes), expected)
  const back = decodeModel(typedBytes).graph!.initializer!
  assert.deepEqual(back[0]!.floatData, W)
  assert.equal(back[0]!.rawData?.length ?? 0, 0)
  assert.equal(decodeModel(rawBytes).graph!.initializer![0]!.rawData!.length, W.length * 4)
})
