/**
 * The binary tensor body (a tfsopt extension, documented in docs/SERVE.md): large inputs skip JSON
 * float parsing and formatting entirely.
 *
 *   POST /v1/models/m:predict
 *   Content-Type: application/octet-stream
 *   X-Tfsopt-Tensors: input:float32:2x784[,other:int64:2]
 *   body: each tensor's raw little-endian bytes, concatenated in header order
 *
 * Names are percent-encoded; an empty name means the model's only input; a scalar has empty dims.
 * With `Accept: application/octet-stream` the answer uses the same framing (header on the response);
 * otherwise it is TF Serving's columnar JSON ({"outputs": ...}). String tensors cannot travel this way.
 */
import {badRequest} from '../errors.js'
import {DTYPE_BYTES, type DType, type TensorInfo} from '../models/dtypes.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import {elementCount} from './tensor-json.js'

export const BINARY_TYPE = 'application/octet-stream'
export const TENSORS_HEADER = 'x-tfsopt-tensors'

/** The typed array each numeric dtype lives in (float16 as its bit patterns, bool as bytes); shared by every binary codec. */
export const CTORS: Partial<Record<DType, new (b: ArrayBuffer | number) => Exclude<Tensor['data'], string[]>>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
}

interface Spec {
  name: string
  dtype: DType
  dims: number[]
}

export function parseTensorsHeader(h: string | undefined): Spec[] {
  if (!h)
    throw badRequest(
      `a binary body needs the ${TENSORS_HEADER} header, e.g. "${TENSORS_HEADER}: input:float32:1x784" (name:dtype:dims per tensor, comma-separated)`,
    )
  return h.split(',').map((part) => {
    const m = /^\s*([^:]*):([a-z0-9]+):([0-9x]*)\s*$/.exec(part)
    if (!m) throw badRequest(`bad ${TENSORS_HEADER} entry "${part}"; expected name:dtype:dims such as input:float32:2x784`)
    const dtype = m[2] as DType
    if (!CTORS[dtype]) throw badRequest(`${TENSORS_HEADER}: dtype ${m[2]} cannot travel in a binary body; expected one of ${Object.keys(CTORS).join(', ')}`)
    let name: string
    try {
      name = decodeURIComponent(m[1]!)
    } catch {
      throw badRequest(`bad ${TENSORS_HEADER} entry "${part}": the name is not valid percent-encoding`)
    }
    return {name, dtype, dims: m[3] === '' ? [] : m[3]!.split('x').map(Number)}
  })
}

export function decodeBinary(body: Buffer, header: string | undefined, inputs: TensorInfo[]): Feeds {
  const specs = parseTensorsHeader(header)
  const feeds: Feeds = {}
  let off = 0
  for (const s of specs) {
    const name = s.name === '' && inputs.length === 1 ? inputs[0]!.name : s.name
    const info = inputs.find((i) => i.name === name)
    if (!info) throw badRequest(`unknown input '${name}'; this model's inputs are ${inputs.map((i) => `'${i.name}'`).join(', ')}`)
    if (Object.hasOwn(feeds, name)) throw badRequest(`${TENSORS_HEADER} lists input '${name}' twice; give each input once`)
    if (info.dtype !== s.dtype) throw badRequest(`input '${name}' must be ${info.dtype}, got ${s.dtype}`)
    const bytes = elementCount(s.dims) * DTYPE_BYTES[s.dtype]
    if (off + bytes > body.length) throw badRequest(`the binary body holds ${body.length} bytes but ${TENSORS_HEADER} describes at least ${off + bytes}`)
    // Copy into a fresh, aligned buffer that the worker can take ownership of.
    const buf = new ArrayBuffer(bytes)
    new Uint8Array(buf).set(body.subarray(off, off + bytes))
    feeds[name] = {dtype: s.dtype, dims: s.dims, data: new CTORS[s.dtype]!(buf)}
    off += bytes
  }
  if (off !== body.length) throw badRequest(`the binary body holds ${body.length} bytes but ${TENSORS_HEADER} describes ${off}`)
  return feeds
}

export function encodeBinary(outputs: Record<string, Tensor>, order: string[]): {header: string; body: Buffer} {
  const keys = order.filter((k) => k in outputs)
  const parts: Buffer[] = []
  const specs: string[] = []
  for (const k of keys) {
    const t = outputs[k]!
    if (Array.isArray(t.data))
      throw badRequest(`output '${k}' is a string tensor, which cannot travel in a binary body; ask for JSON (Accept: application/json)`)
    specs.push(`${encodeURIComponent(k)}:${t.dtype}:${t.dims.join('x')}`)
    parts.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))
  }
  return {header: specs.join(','), body: Buffer.concat(parts)}
}
