/** ONNX TensorProto ↔ typed arrays, honouring both raw_data and the typed repeated fields. */
import {DataLocation, newTensor, newValueInfo, tensorTypeOf, toNum, type TensorProto, type ValueInfoProto} from './proto.js'
import {ONNX_DTYPE, ONNX_DTYPE_CODE, DTYPE_BYTES, type DType, type Dim, type TensorInfo} from '../dtypes.js'
import {TfsoptError} from '../../errors.js'

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array

export interface HostTensor {
  dtype: DType
  dims: number[]
  /** float16 is carried as its raw uint16 bits; strings as string[]. */
  data: TypedArray | string[]
}

export const elementCount = (dims: number[]): number => dims.reduce((a, b) => a * b, 1)

export function tensorDims(t: TensorProto): number[] {
  return t.dims.map(toNum)
}

export function tensorDType(t: TensorProto): DType {
  return ONNX_DTYPE[t.dataType ?? 0] ?? 'unknown'
}

/** Bytes the tensor's values occupy (raw_data or typed fields), without decoding. */
export function tensorByteSize(t: TensorProto): number {
  if (t.rawData?.length) return t.rawData.length
  const dt = tensorDType(t)
  if (dt === 'string') return (t.stringData ?? []).reduce((s, b) => s + b.length, 0)
  return Math.ceil(elementCount(tensorDims(t)) * DTYPE_BYTES[dt])
}

function fromRaw(dtype: DType, raw: Uint8Array): TypedArray {
  // Copy: raw_data slices are not necessarily aligned; Uint8Array.prototype.slice copies even for Node Buffers (whose .slice is a view).
  const buf = Uint8Array.prototype.slice.call(raw).buffer
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf)
    case 'float64':
      return new Float64Array(buf)
    case 'int8':
      return new Int8Array(buf)
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf)
    case 'int16':
      return new Int16Array(buf)
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(buf)
    case 'int32':
      return new Int32Array(buf)
    case 'uint32':
      return new Uint32Array(buf)
    case 'int64':
      return new BigInt64Array(buf)
    case 'uint64':
      return new BigUint64Array(buf)
    default:
      throw new TfsoptError('E_UNSUPPORTED', `tensors of type ${dtype} are not supported`)
  }
}

export function tensorToHost(t: TensorProto): HostTensor {
  const dtype = tensorDType(t)
  const dims = tensorDims(t)
  if (t.dataLocation === DataLocation.EXTERNAL) {
    throw new TfsoptError(
      'E_UNSUPPORTED',
      `initializer ${t.name} stores its data in an external file; re-save the model with all tensors inside the .onnx file`,
    )
  }
  if (dtype === 'string') return {dtype, dims, data: (t.stringData ?? []).map((b) => Buffer.from(b).toString('utf8'))}
  if (t.rawData?.length) return {dtype, dims, data: fromRaw(dtype, t.rawData)}
  const n = elementCount(dims)
  switch (dtype) {
    case 'float32':
      return {dtype, dims, data: Float32Array.from(t.floatData ?? [])}
    case 'float64':
      return {dtype, dims, data: Float64Array.from(t.doubleData ?? [])}
    case 'int64':
      return {dtype, dims, data: BigInt64Array.from(t.int64Data)}
    case 'uint64':
    case 'uint32': {
      // uint32 travels in uint64_data (ONNX spec); BigUint64Array.from keeps uint64 values above 2^53 exact.
      return dtype === 'uint32' ? {dtype, dims, data: Uint32Array.from(t.uint64Data, Number)} : {dtype, dims, data: BigUint64Array.from(t.uint64Data)}
    }
    default: {
      // int32_data carries int8/uint8/int16/uint16/int32/bool/float16 (bits), per the ONNX spec.
      const vals = t.int32Data ?? []
      if (vals.length !== n && n !== 0) throw new TfsoptError('E_CORRUPT', `initializer ${t.name} has ${vals.length} values for shape [${dims}]`)
      const ctor = {
        int8: Int8Array,
        uint8: Uint8Array,
        bool: Uint8Array,
        int16: Int16Array,
        uint16: Uint16Array,
        float16: Uint16Array,
        bfloat16: Uint16Array,
        int32: Int32Array,
      }[dtype as string]
      if (!ctor) throw new TfsoptError('E_UNSUPPORTED', `tensors of type ${dtype} are not supported`)
      return {dtype, dims, data: ctor.from(vals)}
    }
  }
}

/** float32 view of a numeric tensor (float16 decoded), for maths over weights. */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const h = tensorToHost(t)
  if (h.dtype === 'float32') return h.data as Float32Array
  if (h.dtype === 'float16') return float16BitsToFloat32(h.data as Uint16Array)
  if (Array.isArray(h.data)) throw new TfsoptError('E_UNSUPPORTED', `string tensor ${t.name} has no numeric view`)
  const out = new Float32Array(h.data.length)
  for (let i = 0; i < out.length; i++) out[i] = Number(h.data[i])
  return out
}

export function typedArrayFrom(dtype: DType, data: number[]): TypedArray {
  switch (dtype) {
    case 'int64':
      return BigInt64Array.from(data.map((v) => BigInt(Math.trunc(v))))
    case 'uint64':
      return BigUint64Array.from(data.map((v) => BigInt(Math.trunc(v))))
    case 'float16':
      return Uint16Array.from(data.map(float32ToFloat16Bits))
    default: {
      const ctor = {
        float32: Float32Array,
        float64: Float64Array,
        int8: Int8Array,
        uint8: Uint8Array,
        bool: Uint8Array,
        int16: Int16Array,
        uint16: Uint16Array,
        int32: Int32Array,
        uint32: Uint32Array,
      }[dtype as string]
      if (!ctor) throw new TfsoptError('E_UNSUPPORTED', `cannot hold ${dtype} values in a typed array`)
      return ctor.from(data)
    }
  }
}

/** A TensorProto with raw_data (little-endian, as ONNX requires). */
export function makeTensor(name: string, dtype: DType, dims: number[], data: TypedArray | number[]): TensorProto {
  const code = ONNX_DTYPE_CODE[dtype]
  if (code === undefined || dtype === 'string') throw new TfsoptError('E_UNSUPPORTED', `cannot build a ${dtype} tensor`)
  let arr: TypedArray
  if (Array.isArray(data)) {
    arr = typedArrayFrom(dtype, data)
  } else arr = data
  const raw = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength)
  return newTensor({name, dataType: code, dims: dims.map(BigInt), rawData: Uint8Array.from(raw)})
}

export function valueInfoToTensorInfo(v: ValueInfoProto): TensorInfo {
  const tt = tensorTypeOf(v)
  const dtype = ONNX_DTYPE[tt?.elemType ?? 0] ?? 'unknown'
  const shape: Dim[] | null = tt?.shape
    ? tt.shape.dim.map((d) => {
        if (d.value.case === 'dimValue') return toNum(d.value.value)
        return d.value.case === 'dimParam' && d.value.value ? d.value.value : null
      })
    : null
  return {name: v.name, dtype, shape}
}

export function makeValueInfo(name: string, dtype: DType, shape: Dim[]): ValueInfoProto {
  const dim = shape.map((d) => ({
    value: typeof d === 'number' ? {case: 'dimValue' as const, value: BigInt(d)} : d ? {case: 'dimParam' as const, value: d} : {case: undefined},
  }))
  return newValueInfo({name, type: {value: {case: 'tensorType', value: {elemType: ONNX_DTYPE_CODE[dtype], shape: {dim}}}}})
}

// IEEE 754 half precision, round-to-nearest-even, as numpy/onnx do.
const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)
export function float32ToFloat16Bits(v: number): number {
  f32[0] = v
  const x = u32[0]!
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0)
  const e = exp - 127 + 15
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    let half = mant >>> shift
    const rem = mant & ((1 << shift) - 1)
    const mid = 1 << (shift - 1)
    if (rem > mid || (rem === mid && half & 1)) half++
    return sign | half
  }
  let half = (e << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++
  return sign | half
}

export function float16BitsToFloat32Scalar(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >>> 10) & 0x1f
  const mant = h & 0x3ff
  if (exp === 0) return sign * mant * 2 ** -24
  if (exp === 0x1f) return mant ? NaN : sign * Infinity
  return sign * (1 + mant / 1024) * 2 ** (exp - 15)
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length)
  for (let i = 0; i < bits.length; i++) out[i] = float16BitsToFloat32Scalar(bits[i]!)
  return out
}
