/**
 * TensorFlow's TensorProto ↔ the server's Tensor. Inputs may come as `tensor_content` (raw
 * little-endian bytes, any dtype but string) or in the typed `*_val` field TensorFlow uses for the
 * dtype; as in TensorFlow's Tensor::FromProto, a typed field with fewer values than the shape holds is
 * filled up with its last value (so one value fills the whole shape: the "version 0" rule) and an empty
 * one means zeros. Outputs go back in the typed fields (TF Serving's default) or, when asked, as
 * `tensor_content` (TF Serving's --enable_serialization_as_tensor_content).
 */
import {create} from '@bufbuild/protobuf'
import {CTORS} from '../binary-codec.js'
import {badRequest} from '../../errors.js'
import {DTYPE_BYTES, type DType} from '../../models/dtypes.js'
import type {Tensor} from '../../runtime/types.js'
import {type TensorProto, TensorProtoSchema} from './gen/tensorflow/core/framework/tensor_pb.js'
import {DataType} from './gen/tensorflow/core/framework/types_pb.js'

/** The TensorFlow dtypes the server can take and give (the same set as its REST API). */
export const DTYPE_OF_TF: Partial<Record<DataType, DType>> = {
  [DataType.DT_FLOAT]: 'float32',
  [DataType.DT_DOUBLE]: 'float64',
  [DataType.DT_HALF]: 'float16',
  [DataType.DT_INT8]: 'int8',
  [DataType.DT_UINT8]: 'uint8',
  [DataType.DT_INT16]: 'int16',
  [DataType.DT_UINT16]: 'uint16',
  [DataType.DT_INT32]: 'int32',
  [DataType.DT_UINT32]: 'uint32',
  [DataType.DT_INT64]: 'int64',
  [DataType.DT_UINT64]: 'uint64',
  [DataType.DT_BOOL]: 'bool',
  [DataType.DT_STRING]: 'string',
}

export const TF_OF_DTYPE: Partial<Record<DType, DataType>> = Object.fromEntries(Object.entries(DTYPE_OF_TF).map(([k, v]) => [v, Number(k)]))

const CTOR = CTORS

/** Integer ranges of the dtypes TensorFlow carries in int_val (and half_val's 16 bits). */
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  float16: [0, 65535],
}

const dtypeNames = () =>
  Object.keys(TF_OF_DTYPE)
    .map((d) => DataType[TF_OF_DTYPE[d as DType]!])
    .join(', ')

export interface DecodeLimits {
  /** The most bytes one decoded tensor may take (a one-value typed field can describe a huge shape). */
  maxBytes: number
}

function dimsOf(p: TensorProto, where: string): number[] {
  const shape = p.tensorShape
  if (!shape) return []
  if (shape.unknownRank) throw badRequest(`${where}: tensor_shape has unknown_rank; an input needs a known shape`)
  return shape.dim.map((d, i) => {
    const n = Number(d.size)
    if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`${where}: tensor_shape dimension ${i} is ${d.size}; an input needs sizes ≥ 0`)
    return n
  })
}

/** The values of the typed field TensorFlow uses for `dtype`. */
function typedValues(p: TensorProto, dtype: DType): ArrayLike<number | bigint | boolean> {
  switch (dtype) {
    case 'float32':
      return p.floatVal
    case 'float64':
      return p.doubleVal
    case 'float16':
      return p.halfVal
    case 'int64':
      return p.int64Val
    case 'uint64':
      return p.uint64Val
    case 'uint32':
      return p.uint32Val
    case 'bool':
      return p.boolVal
    default:
      return p.intVal
  }
}

/** Decodes one input; `where` names it in errors ("input 'x'"). */
export function tensorFromProto(p: TensorProto, where: string, limits: DecodeLimits): Tensor {
  const dtype = DTYPE_OF_TF[p.dtype]
  if (!dtype) throw badRequest(`${where}: dtype ${DataType[p.dtype] ?? p.dtype} is not supported; use one of ${dtypeNames()}`)
  const dims = dimsOf(p, where)
  let n = 1
  for (const d of dims) n *= d
  const width = dtype === 'string' ? 1 : DTYPE_BYTES[dtype]
  if (n * width > limits.maxBytes)
    throw badRequest(`${where}: shape [${dims}] of ${dtype} would take ${n * width} bytes, more than the ${limits.maxBytes} allowed`)
  if (dtype === 'string') {
    if (p.tensorContent.length) throw badRequest(`${where}: a DT_STRING tensor cannot use tensor_content; send its values in string_val`)
    return {dtype, dims, data: fillStrings(p.stringVal, n, where)}
  }
  const Ctor = CTOR[dtype]!
  if (p.tensorContent.length) {
    const bytes = n * width
    if (p.tensorContent.length !== bytes)
      throw badRequest(`${where}: tensor_content holds ${p.tensorContent.length} bytes but shape [${dims}] of ${dtype} needs ${bytes}`)
    // A fresh, aligned buffer that a worker thread can take ownership of.
    const buf = new ArrayBuffer(bytes)
    new Uint8Array(buf).set(p.tensorContent)
    return {dtype, dims, data: new Ctor(buf)}
  }
  const vals = typedValues(p, dtype)
  if (vals.length > n) throw badRequest(`${where}: ${vals.length} values for shape [${dims}], which holds ${n}`)
  const data = new Ctor(n)
  const range = INT_RANGE[dtype]
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]!
    if (range && ((v as number) < range[0] || (v as number) > range[1]))
      throw badRequest(`${where}: value ${v} is out of range for ${dtype === 'float16' ? 'half_val (16-bit patterns)' : dtype} [${range[0]}, ${range[1]}]`)
    ;(data as unknown as (number | bigint)[])[i] = typeof v === 'boolean' ? (v ? 1 : 0) : v
  }
  // TensorFlow's rule: missing trailing values repeat the last one given (an empty field means zeros).
  if (vals.length > 0 && vals.length < n) (data as Uint8Array).fill((data as Uint8Array)[vals.length - 1]!, vals.length)
  return {dtype, dims, data}
}

const utf8 = new TextDecoder('utf-8')

function fillStrings(vals: Uint8Array[], n: number, where: string): string[] {
  if (vals.length > n) throw badRequest(`${where}: ${vals.length} string_val values for a shape that holds ${n}`)
  const out: string[] = new Array(n)
  for (let i = 0; i < vals.length; i++) out[i] = utf8.decode(vals[i])
  out.fill(vals.length ? out[vals.length - 1]! : '', vals.length)
  return out
}

export interface EncodeOptions {
  /** Numeric outputs as raw tensor_content instead of the typed fields. */
  tensorContent: boolean
}

const enc = new TextEncoder()

/** Encodes one output the way TensorFlow's AsProtoField (or AsProtoTensorContent) does. */
export function tensorToProto(t: Tensor, opts: EncodeOptions): TensorProto {
  const dtype = TF_OF_DTYPE[t.dtype]
  if (dtype === undefined) throw badRequest(`an output is ${t.dtype}, which the TF Serving gRPC API cannot carry; use the REST API`)
  const p = create(TensorProtoSchema, {dtype, tensorShape: {dim: t.dims.map((d) => ({size: BigInt(d), name: ''}))}})
  const d = t.data
  if (Array.isArray(d)) {
    p.stringVal = d.map((s) => enc.encode(s))
    return p
  }
  if (opts.tensorContent) {
    p.tensorContent = new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
    return p
  }
  switch (t.dtype) {
    case 'float32':
      p.floatVal = Array.from(d as Float32Array)
      break
    case 'float64':
      p.doubleVal = Array.from(d as Float64Array)
      break
    case 'float16':
      p.halfVal = Array.from(d as Uint16Array)
      break
    case 'int64':
      p.int64Val = Array.from(d as BigInt64Array)
      break
    case 'uint64':
      p.uint64Val = Array.from(d as BigUint64Array)
      break
    case 'uint32':
      p.uint32Val = Array.from(d as Uint32Array)
      break
    case 'bool':
      p.boolVal = Array.from(d as Uint8Array, (x) => x !== 0)
      break
    default:
      p.intVal = Array.from(d as Int32Array)
  }
  return p
}
