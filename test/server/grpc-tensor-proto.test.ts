/** TensorProto ↔ Tensor: hand-built messages (and hand-written wire bytes) for every dtype the server supports. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {create, fromBinary, toBinary} from '@bufbuild/protobuf'
import {TensorProtoSchema, type TensorProto} from '../../src/server/grpc/gen/tensorflow/core/framework/tensor_pb.js'
import {DataType} from '../../src/server/grpc/gen/tensorflow/core/framework/types_pb.js'
import {tensorFromProto, tensorToProto} from '../../src/server/grpc/tensor-proto.js'
import type {Tensor} from '../../src/runtime/types.js'

const limits = {maxBytes: 1 << 20}
const shape = (...dims: number[]) => ({dim: dims.map((d) => ({size: BigInt(d), name: ''}))})
const proto = (init: Partial<TensorProto> & {dims: number[]}) => {
  const {dims, ...rest} = init
  return create(TensorProtoSchema, {...rest, tensorShape: shape(...dims)} as never)
}

test("field numbers are TensorFlow's: hand-written wire bytes decode to the right tensor", () => {
  // dtype=DT_FLOAT (field 1, varint 1); tensor_shape (2) {dim (2) {size (1) = 2}}; float_val (5) packed [1.5, -2].
  const f = Buffer.alloc(8)
  f.writeFloatLE(1.5, 0)
  f.writeFloatLE(-2, 4)
  const bytes = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x04, 0x12, 0x02, 0x08, 0x02, 0x2a, 0x08]), f])
  const t = tensorFromProto(fromBinary(TensorProtoSchema, bytes), 'x', limits)
  assert.deepEqual(t, {dtype: 'float32', dims: [2], data: Float32Array.from([1.5, -2])})
  // int64_val is field 10 (packed varints), uint64_val 17, half_val 13, uint32_val 16.
  const i64 = Buffer.from([0x08, 0x09, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01, 0x52, 0x01, 0x05])
  assert.deepEqual(tensorFromProto(fromBinary(TensorProtoSchema, i64), 'x', limits).data, BigInt64Array.from([5n]))
  const half = Buffer.from([0x08, 0x13, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01, 0x6a, 0x02, 0x80, 0x78])
  assert.deepEqual(tensorFromProto(fromBinary(TensorProtoSchema, half), 'x', limits), {dtype: 'float16', dims: [1], data: Uint16Array.from([0x3c00])})
  const u32 = Buffer.from([0x08, 0x16, 0x12, 0x04, 0x12, 0x02, 0x08, 0x01, 0x82, 0x01, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f])
  assert.deepEqual(tensorFromProto(fromBinary(TensorProtoSchema, u32), 'x', limits).data, Uint32Array.from([4294967295]))
})

test('typed *_val fields decode for every dtype, exactly (int64 and uint64 beyond 2^53)', () => {
  const cases: [Partial<TensorProto>, unknown][] = [
    [{dtype: DataType.DT_FLOAT, floatVal: [0.5, -1]}, Float32Array.from([0.5, -1])],
    [{dtype: DataType.DT_DOUBLE, doubleVal: [0.1, 1e300]}, Float64Array.from([0.1, 1e300])],
    [{dtype: DataType.DT_HALF, halfVal: [0x3c00, 0xc000]}, Uint16Array.from([0x3c00, 0xc000])],
    [{dtype: DataType.DT_INT8, intVal: [-128, 127]}, Int8Array.from([-128, 127])],
    [{dtype: DataType.DT_UINT8, intVal: [0, 255]}, Uint8Array.from([0, 255])],
    [{dtype: DataType.DT_INT16, intVal: [-32768, 32767]}, Int16Array.from([-32768, 32767])],
    [{dtype: DataType.DT_UINT16, intVal: [0, 65535]}, Uint16Array.from([0, 65535])],
    [{dtype: DataType.DT_INT32, intVal: [-2147483648, 2147483647]}, Int32Array.from([-2147483648, 2147483647])],
    [{dtype: DataType.DT_UINT32, uint32Val: [0, 4294967295]}, Uint32Array.from([0, 4294967295])],
    [{dtype: DataType.DT_INT64, int64Val: [-(2n ** 63n), 9007199254740993n]}, BigInt64Array.from([-(2n ** 63n), 9007199254740993n])],
    [{dtype: DataType.DT_UINT64, uint64Val: [0n, 2n ** 64n - 1n]}, BigUint64Array.from([0n, 2n ** 64n - 1n])],
    [{dtype: DataType.DT_BOOL, boolVal: [true, false]}, Uint8Array.from([1, 0])],
  ]
  for (const [fields, want] of cases) {
    // Through the wire and back, as a client's message arrives.
    const wire = fromBinary(TensorProtoSchema, toBinary(TensorProtoSchema, proto({...fields, dims: [2]})))
    const t = tensorFromProto(wire, 'x', limits)
    assert.deepEqual(t.data, want, DataType[fields.dtype!])
    assert.deepEqual(t.dims, [2])
  }
  const s = tensorFromProto(proto({dtype: DataType.DT_STRING, stringVal: [Buffer.from('héllo'), Buffer.from('')], dims: [2]}), 'x', limits)
  assert.deepEqual(s, {dtype: 'string', dims: [2], data: ['héllo', '']})
})

test('tensor_content carries raw little-endian bytes for any numeric dtype', () => {
  const raw = new Uint8Array(BigInt64Array.from([2n ** 62n + 1n, -3n]).buffer)
  const t = tensorFromProto(proto({dtype: DataType.DT_INT64, tensorContent: raw, dims: [1, 2]}), 'x', limits)
  assert.deepEqual(t, {dtype: 'int64', dims: [1, 2], data: BigInt64Array.from([2n ** 62n + 1n, -3n])})
  assert.equal(t.data.buffer.byteLength, 16, 'a buffer of its own, transferable to a worker')
  const h = tensorFromProto(proto({dtype: DataType.DT_HALF, tensorContent: new Uint8Array([0x00, 0x3c]), dims: [1]}), 'x', limits)
  assert.deepEqual(h.data, Uint16Array.from([0x3c00]))
})

test("TensorFlow's fill rule: one value fills the shape, missing trailing values repeat the last, none means zeros", () => {
  assert.deepEqual(tensorFromProto(proto({dtype: DataType.DT_FLOAT, floatVal: [7], dims: [2, 2]}), 'x', limits).data, Float32Array.from([7, 7, 7, 7]))
  assert.deepEqual(tensorFromProto(proto({dtype: DataType.DT_INT32, intVal: [1, 2], dims: [4]}), 'x', limits).data, Int32Array.from([1, 2, 2, 2]))
  assert.deepEqual(tensorFromProto(proto({dtype: DataType.DT_INT64, int64Val: [3n], dims: [3]}), 'x', limits).data, BigInt64Array.from([3n, 3n, 3n]))
  assert.deepEqual(tensorFromProto(proto({dtype: DataType.DT_DOUBLE, dims: [2]}), 'x', limits).data, Float64Array.from([0, 0]))
  assert.deepEqual(tensorFromProto(proto({dtype: DataType.DT_STRING, stringVal: [Buffer.from('a')], dims: [3]}), 'x', limits).data, ['a', 'a', 'a'])
  assert.deepEqual(tensorFromProto(proto({dtype: DataType.DT_FLOAT, floatVal: [1], dims: []}), 'x', limits), {
    dtype: 'float32',
    dims: [],
    data: Float32Array.from([1]),
  })
})

test('bad tensors are refused with what was wrong', () => {
  const bad = (p: TensorProto, re: RegExp) =>
    assert.throws(
      () => tensorFromProto(p, "input 'x'", limits),
      (e: Error & {status?: number}) => e.status === 400 && re.test(e.message),
    )
  bad(
    proto({dtype: DataType.DT_FLOAT, tensorContent: new Uint8Array(6), dims: [2]}),
    /input 'x': tensor_content holds 6 bytes but shape \[2\] of float32 needs 8/,
  )
  bad(proto({dtype: DataType.DT_FLOAT, floatVal: [1, 2, 3], dims: [2]}), /3 values for shape \[2\]/)
  bad(proto({dtype: DataType.DT_UINT8, intVal: [256], dims: [1]}), /256 is out of range for uint8/)
  bad(proto({dtype: DataType.DT_HALF, halfVal: [70000], dims: [1]}), /out of range for half_val/)
  bad(proto({dtype: DataType.DT_COMPLEX64, dims: [1]}), /DT_COMPLEX64 is not supported; use one of DT_FLOAT/)
  bad(proto({dtype: DataType.DT_STRING, tensorContent: new Uint8Array(1), dims: [1]}), /DT_STRING tensor cannot use tensor_content/)
  bad(proto({dtype: DataType.DT_FLOAT, floatVal: [1], dims: [1 << 20, 1 << 10]}), /would take 4294967296 bytes, more than the 1048576 allowed/)
  bad(proto({dtype: DataType.DT_FLOAT, floatVal: [1], dims: [-1]}), /dimension 0 is -1/)
  bad(create(TensorProtoSchema, {dtype: DataType.DT_FLOAT, tensorShape: {unknownRank: true}}), /unknown_rank/)
})

test('outputs encode into the typed fields by default and into tensor_content when asked', () => {
  const f = tensorToProto({dtype: 'float32', dims: [1, 2], data: Float32Array.from([0.25, -4])}, {tensorContent: false})
  assert.equal(f.dtype, DataType.DT_FLOAT)
  assert.deepEqual(
    f.tensorShape?.dim.map((d) => d.size),
    [1n, 2n],
  )
  assert.deepEqual(f.floatVal, [0.25, -4])
  assert.equal(f.tensorContent.length, 0)
  const c = tensorToProto({dtype: 'float32', dims: [2], data: Float32Array.from([0.25, -4])}, {tensorContent: true})
  assert.deepEqual(Buffer.from(c.tensorContent), Buffer.from(Float32Array.from([0.25, -4]).buffer))
  assert.deepEqual(c.floatVal, [])
  const i = tensorToProto({dtype: 'int64', dims: [1], data: BigInt64Array.from([-(2n ** 63n)])}, {tensorContent: false})
  assert.deepEqual(i.int64Val, [-(2n ** 63n)])
  const h = tensorToProto({dtype: 'float16', dims: [1], data: Uint16Array.from([0xfbff])}, {tensorContent: false})
  assert.deepEqual([h.dtype, h.halfVal], [DataType.DT_HALF, [0xfbff]])
  const b = tensorToProto({dtype: 'bool', dims: [2], data: Uint8Array.from([1, 0])}, {tensorContent: false})
  assert.deepEqual(b.boolVal, [true, false])
  const u16 = tensorToProto({dtype: 'uint16', dims: [1], data: Uint16Array.from([65535])}, {tensorContent: false})
  assert.deepEqual([u16.dtype, u16.intVal], [DataType.DT_UINT16, [65535]])
  const s = tensorToProto({dtype: 'string', dims: [1], data: ['ü']}, {tensorContent: true})
  assert.deepEqual(
    s.stringVal.map((x) => Buffer.from(x).toString('utf8')),
    ['ü'],
  )
  assert.throws(
    () => tensorToProto({dtype: 'bfloat16', dims: [1], data: Uint16Array.from([0])}, {tensorContent: false}),
    /bfloat16, which the TF Serving gRPC API cannot carry/,
  )
  // Every dtype survives output encoding → wire → input decoding unchanged.
  for (const t of [
    {dtype: 'uint64', dims: [2], data: BigUint64Array.from([1n, 2n ** 64n - 1n])},
    {dtype: 'int8', dims: [2], data: Int8Array.from([-1, 5])},
    {dtype: 'float64', dims: [1], data: Float64Array.from([Math.PI])},
  ] as Tensor[]) {
    for (const tensorContent of [false, true]) {
      const wire = fromBinary(TensorProtoSchema, toBinary(TensorProtoSchema, tensorToProto(t, {tensorContent})))
      assert.deepEqual(tensorFromProto(wire, 'x', limits), t)
    }
  }
})
