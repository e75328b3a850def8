/**
 * One KServe v2 (Open Inference Protocol) tensor ↔ the server's Tensor, in both encodings: JSON `data`
 * (flat or nested, row-major) and the binary tensor data extension (raw little-endian bytes; BOOL one
 * byte per element; BYTES as a 4-byte little-endian length before each element).
 */
import {CTORS} from '../binary-codec.js'
import {badRequest} from '../../errors.js'
import {DTYPE_BYTES, type DType} from '../../models/dtypes.js'
import type {Tensor} from '../../runtime/types.js'
import {decodeTensor, elementCount, encodeRange} from '../tensor-json.js'

/** v2 datatype names of the dtypes the server takes and gives (the same set as its TF Serving APIs). */
export const V2_DATATYPE: Partial<Record<DType, string>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
}

export const DTYPE_OF_V2: Record<string, DType> = Object.fromEntries(Object.entries(V2_DATATYPE).map(([k, v]) => [v, k as DType]))

const CTOR = CTORS

/** The dtype a v2 datatype name stands for, or a 400 that lists the names. */
export function dtypeOfV2(datatype: unknown, where: string): DType {
  const d = typeof datatype === 'string' ? DTYPE_OF_V2[datatype] : undefined
  if (!d) throw badRequest(`${where}: datatype ${JSON.stringify(datatype)} is not supported; use one of ${Object.keys(DTYPE_OF_V2).join(', ')}`)
  return d
}

/** A v2 shape: a list of sizes ≥ 0. */
export function checkV2Shape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw badRequest(`${where}: "shape" must be a list of sizes ≥ 0, got ${JSON.stringify(shape)?.slice(0, 60)}`)
  return shape as number[]
}

/** JSON `data` (flat or nested in any way whose element count matches) → tensor of `shape`. */
export function tensorFromV2Json(data: unknown, dtype: DType, shape: number[], where: string): Tensor {
  if (data === undefined) throw badRequest(`${where}: has neither "data" nor parameters.binary_data_size`)
  const t = decodeTensor(Array.isArray(data) ? data : [data], dtype, where)
  const n = elementCount(shape)
  if (t.data.length !== n) throw badRequest(`${where}: "data" holds ${t.data.length} values but shape [${shape}] needs ${n}`)
  t.dims = shape
  return t
}

/** Binary tensor data (the bytes of one input, exactly) → tensor of `shape`. */
export function tensorFromV2Bytes(bytes: Uint8Array, dtype: DType, shape: number[], where: string): Tensor {
  const n = elementCount(shape)
  if (dtype === 'string') return {dtype, dims: shape, data: readBytesElements(bytes, n, where)}
  const need = n * DTYPE_BYTES[dtype]
  if (bytes.length !== need) throw badRequest(`${where}: binary_data_size is ${bytes.length} bytes but shape [${shape}] of ${V2_DATATYPE[dtype]} needs ${need}`)
  // A fresh, aligned buffer that a worker thread can take ownership of.
  const buf = new ArrayBuffer(need)
  new Uint8Array(buf).set(bytes)
  return {dtype, dims: shape, data: new CTOR[dtype]!(buf)}
}

const utf8 = new TextDecoder('utf-8')

function readBytesElements(bytes: Uint8Array, n: number, where: string): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: string[] = []
  let off = 0
  while (off < bytes.length) {
    if (off + 4 > bytes.length) throw badRequest(`${where}: BYTES element ${out.length} has a truncated 4-byte length prefix`)
    const len = view.getUint32(off, true)
    off += 4
    if (off + len > bytes.length) throw badRequest(`${where}: BYTES element ${out.length} says ${len} bytes but only ${bytes.length - off} remain`)
    out.push(utf8.decode(bytes.subarray(off, off + len)))
    off += len
  }
  if (out.length !== n) throw badRequest(`${where}: the binary data holds ${out.length} BYTES elements but the shape needs ${n}`)
  return out
}

/** The tensor's elements as a flat JSON list. */
export const tensorToV2Json = (t: Tensor): string => encodeRange(t, 0, [t.data.length])

/** The tensor's elements as binary tensor data. */
export function tensorToV2Bytes(t: Tensor): Buffer {
  const d = t.data
  if (!Array.isArray(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength)
  const parts = d.map((s) => Buffer.from(s, 'utf8'))
  const out = Buffer.allocUnsafe(parts.reduce((a, p) => a + 4 + p.length, 0))
  let off = 0
  for (const p of parts) {
    out.writeUInt32LE(p.length, off)
    p.copy(out, off + 4)
    off += 4 + p.length
  }
  return out
}
