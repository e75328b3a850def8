/** KServe v2 infer bodies ↔ tensors: spec-shaped JSON and binary bodies written by hand, every datatype. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import type {TensorInfo} from '../../src/models/dtypes.js'
import {decodeInferRequest, encodeInferResponse} from '../../src/server/kserve/v2-infer.js'

const info = (name: string, dtype: TensorInfo['dtype'], shape: TensorInfo['shape'] = ['batch', 2]): TensorInfo => ({name, dtype, shape})
const json = (o: unknown) => Buffer.from(JSON.stringify(o))

test('JSON inputs: flat or nested data, every datatype, exact INT64/UINT64 beyond 2^53', () => {
  const ins = [
    info('f32', 'float32'),
    info('f16', 'float16'),
    info('f64', 'float64'),
    info('i8', 'int8'),
    info('u8', 'uint8'),
    info('i16', 'int16'),
    info('u16', 'uint16'),
    info('i32', 'int32'),
    info('u32', 'uint32'),
    info('b', 'bool'),
    info('s', 'string'),
  ]
  const body = json({
    id: 'req-1',
    inputs: [
      {name: 'f32', shape: [1, 2], datatype: 'FP32', data: [[0.5, -1]]},
      {name: 'f16', shape: [1, 2], datatype: 'FP16', data: [1, -2]},
      {name: 'f64', shape: [1, 2], datatype: 'FP64', data: [0.1, 1e300]},
      {name: 'i8', shape: [1, 2], datatype: 'INT8', data: [-128, 127]},
      {name: 'u8', shape: [1, 2], datatype: 'UINT8', data: [0, 255]},
      {name: 'i16', shape: [1, 2], datatype: 'INT16', data: [-32768, 32767]},
      {name: 'u16', shape: [1, 2], datatype: 'UINT16', data: [0, 65535]},
      {name: 'i32', shape: [1, 2], datatype: 'INT32', data: [-2147483648, 2147483647]},
      {name: 'u32', shape: [1, 2], datatype: 'UINT32', data: [0, 4294967295]},
      {name: 'b', shape: [1, 2], datatype: 'BOOL', data: [true, false]},
      {name: 's', shape: [1, 2], datatype: 'BYTES', data: ['héllo', '']},
    ],
  })
  const r = decodeInferRequest(body, undefined, ins, [])
  assert.equal(r.id, 'req-1')
  assert.deepEqual(r.feeds.f32, {dtype: 'float32', dims: [1, 2], data: Float32Array.from([0.5, -1])})
  assert.deepEqual(r.feeds.f16!.data, Uint16Array.from([0x3c00, 0xc000]))
  assert.deepEqual(r.feeds.u32!.data, Uint32Array.from([0, 4294967295]))
  assert.deepEqual(r.feeds.b!.data, Uint8Array.from([1, 0]))
  assert.deepEqual(r.feeds.s, {dtype: 'string', dims: [1, 2], data: ['héllo', '']})
  // Long integers are written as JSON numbers; they must not be rounded through a double.
  const big = Buffer.from(
    '{"inputs":[{"name":"i64","shape":[2],"datatype":"INT64","data":[9007199254740993,-9223372036854775808]},' +
      '{"name":"u64","shape":[1],"datatype":"UINT64","data":[18446744073709551615]}]}',
  )
  const r2 = decodeInferRequest(big, undefined, [info('i64', 'int64', [2]), info('u64', 'uint64', [1])], [])
  assert.deepEqual(r2.feeds.i64!.data, BigInt64Array.from([9007199254740993n, -(2n ** 63n)]))
  assert.deepEqual(r2.feeds.u64!.data, BigUint64Array.from([2n ** 64n - 1n]))
})

test('binary inputs: header length, binary_data_size in order, BYTES length-prefixed, JSON and binary mixed', () => {
  const f = Buffer.from(Float32Array.from([1.5, 2.5, 3.5, 4.5]).buffer)
  const s = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('hi'), Buffer.from([0, 0, 0, 0])])
  const header = json({
    inputs: [
      {name: 'x', shape: [2, 2], datatype: 'FP32', parameters: {binary_data_size: 16}},
      {name: 'flag', shape: [1], datatype: 'BOOL', data: [true]},
      {name: 't', shape: [2], datatype: 'BYTES', parameters: {binary_data_size: s.length}},
    ],
    outputs: [{name: 'y', parameters: {binary_data: true}}, {name: 'z'}],
  })
  const r = decodeInferRequest(
    Buffer.concat([header, f, s]),
    String(header.length),
    [info('x', 'float32'), info('flag', 'bool', ['batch']), info('t', 'string', ['batch'])],
    [info('y', 'float32'), info('z', 'float32')],
  )
  assert.deepEqual(r.feeds.x, {dtype: 'float32', dims: [2, 2], data: Float32Array.from([1.5, 2.5, 3.5, 4.5])})
  assert.deepEqual(r.feeds.flag!.data, Uint8Array.from([1]))
  assert.deepEqual(r.feeds.t!.data, ['hi', ''])
  assert.deepEqual(r.outputs, ['y', 'z'])
  assert.deepEqual([...r.binaryOutputs], ['y'])
  const all = decodeInferRequest(
    json({parameters: {binary_data_output: true}, inputs: [{name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2]}]}),
    undefined,
    [info('x', 'float32')],
    [info('y', 'float32'), info('z', 'float32')],
  )
  assert.deepEqual([...all.binaryOutputs], ['y', 'z'])
})

test('bad bodies are refused with what was wrong', () => {
  const ins = [info('x', 'float32')]
  const bad = (body: Buffer, re: RegExp, hl?: string) =>
    assert.throws(
      () => decodeInferRequest(body, hl, ins, [info('y', 'float32')]),
      (e: Error & {status?: number}) => e.status === 400 && re.test(e.message),
    )
  bad(json({inputs: []}), /"inputs" must be a non-empty list/)
  bad(json({inputs: [{name: 'q', shape: [1, 2], datatype: 'FP32', data: [1, 2]}]}), /unknown input 'q'; this model's inputs are 'x'/)
  bad(json({inputs: [{name: 'x', shape: [1, 2], datatype: 'FP64', data: [1, 2]}]}), /input 'x' must be FP32, got FP64/)
  bad(json({inputs: [{name: 'x', shape: [1, 2], datatype: 'FLOAT', data: [1, 2]}]}), /datatype "FLOAT" is not supported; use one of BOOL/)
  bad(json({inputs: [{name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2]}]}), /"data" holds 2 values but shape \[1,3\] needs 3/)
  bad(json({inputs: [{name: 'x', shape: [1, -2], datatype: 'FP32', data: [1, 2]}]}), /"shape" must be a list of sizes/)
  bad(json({inputs: [{name: 'x', shape: [1, 2], datatype: 'FP32'}]}), /neither "data" nor parameters.binary_data_size/)
  bad(json({inputs: [{name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2]}], outputs: [{name: 'w'}]}), /unknown output 'w'/)
  const h = json({inputs: [{name: 'x', shape: [1, 2], datatype: 'FP32', parameters: {binary_data_size: 8}}]})
  bad(Buffer.concat([h, Buffer.alloc(4)]), /binary_data_size 8 runs past the end/, String(h.length))
  bad(Buffer.concat([h, Buffer.alloc(12)]), /12 bytes of binary data after the JSON header but the inputs' binary_data_size add up to 8/, String(h.length))
  bad(Buffer.concat([h, Buffer.alloc(8)]), /Inference-Header-Content-Length is "999"/, '999')
  const h2 = json({inputs: [{name: 'x', shape: [1, 2], datatype: 'FP32', parameters: {binary_data_size: 4}}]})
  bad(Buffer.concat([h2, Buffer.alloc(4)]), /binary_data_size is 4 bytes but shape \[1,2\] of FP32 needs 8/, String(h2.length))
  const hs = json({inputs: [{name: 'x', shape: [1], datatype: 'BYTES', parameters: {binary_data_size: 6}}]})
  assert.throws(
    () => decodeInferRequest(Buffer.concat([hs, Buffer.from([9, 0, 0, 0, 1, 2])]), String(hs.length), [info('x', 'string', [1])], []),
    /BYTES element 0 says 9 bytes but only 2 remain/,
  )
})

test('responses: JSON data flat, binary outputs after the header with binary_data_size, id echoed', () => {
  const y = {dtype: 'float32' as const, dims: [1, 2], data: Float32Array.from([0.25, -4])}
  const n = {dtype: 'int64' as const, dims: [1], data: BigInt64Array.from([9007199254740993n])}
  const s = {dtype: 'string' as const, dims: [2], data: ['ab', '']}
  const plain = encodeInferResponse({
    modelName: 'm',
    modelVersion: '3',
    id: 'q',
    outputs: [
      ['y', y],
      ['n', n],
      ['s', s],
    ],
    binaryOutputs: new Set(),
  })
  assert.equal(plain.headerLength, undefined)
  assert.equal(
    plain.body.toString(),
    '{"model_name":"m","model_version":"3","id":"q","outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[0.25,-4]},' +
      '{"name":"n","datatype":"INT64","shape":[1],"data":[9007199254740993]},{"name":"s","datatype":"BYTES","shape":[2],"data":["ab",""]}]}',
  )
  const bin = encodeInferResponse({
    modelName: 'm',
    modelVersion: '3',
    outputs: [
      ['y', y],
      ['s', s],
    ],
    binaryOutputs: new Set(['y', 's']),
  })
  const head = JSON.parse(bin.body.subarray(0, bin.headerLength).toString())
  assert.deepEqual(head.outputs, [
    {name: 'y', datatype: 'FP32', shape: [1, 2], parameters: {binary_data_size: 8}},
    {name: 's', datatype: 'BYTES', shape: [2], parameters: {binary_data_size: 10}},
  ])
  const rest = bin.body.subarray(bin.headerLength)
  assert.deepEqual([rest.readFloatLE(0), rest.readFloatLE(4)], [0.25, -4])
  assert.deepEqual([...rest.subarray(8)], [2, 0, 0, 0, 97, 98, 0, 0, 0, 0])
})
