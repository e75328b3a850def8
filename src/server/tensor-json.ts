/**
 * JSON values ↔ tensors. Decoding infers the shape from the nesting, refuses ragged lists and values
 * the tensor's type cannot hold, and fills a typed array in one pass. Encoding writes nested lists
 * straight into a string, one row or the whole tensor at a time, so batch results can be split back
 * per request without building intermediate arrays.
 */
import {badRequest} from '../errors.js'
import type {DType} from '../models/dtypes.js'
import {float16BitsToFloat32Scalar, float32ToFloat16Bits} from '../models/onnx/tensor.js'
import type {Tensor} from '../runtime/types.js'
import {BIGINT_PREFIX, NAN_SENTINEL} from './json-body.js'
import {formatFloat32, formatFloat64} from './number-format.js'

const isB64 = (v: unknown): v is {b64: string} => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as {b64?: unknown}).b64 === 'string'

/**
 * The deepest nesting a JSON tensor may have. ONNX and TF tensors in practice have at most 8 dimensions;
 * the bound keeps a request nested thousands deep from driving recursion (or allocation) anywhere.
 */
export const MAX_RANK = 32

/** Shape implied by nesting: follows the first element at each level (stops past MAX_RANK). */
export function inferDims(v: unknown): number[] {
  const dims: number[] = []
  let cur = v
  while (Array.isArray(cur) && dims.length <= MAX_RANK) {
    dims.push(cur.length)
    if (cur.length === 0) break
    cur = cur[0]
  }
  return dims
}

/**
 * Checks that every list has the length `dims` says at its depth, before any storage is allocated:
 * the element count then matches real leaves in the body, so a small body cannot make the decoder
 * allocate a huge tensor (e.g. a first row of 10^6 values followed by 10^6 one-value rows).
 */
function checkRagged(node: unknown, dims: number[], depth: number, where: string): void {
  if (depth === dims.length) {
    if (Array.isArray(node))
      throw badRequest(`${where}: ragged tensor: expected shape [${dims}] (from the first elements) but a value at depth ${depth} is a list`)
    return
  }
  if (!Array.isArray(node) || node.length !== dims[depth]) {
    throw badRequest(
      `${where}: ragged tensor: expected shape [${dims}] (from the first elements), but a list at depth ${depth} has ${Array.isArray(node) ? node.length : 'no'} elements`,
    )
  }
  if (depth === dims.length - 1) {
    for (let i = 0; i < node.length; i++) {
      if (Array.isArray(node[i])) throw badRequest(`${where}: ragged tensor: expected shape [${dims}] (from the first elements) but found deeper nesting`)
    }
  } else for (let i = 0; i < node.length; i++) checkRagged(node[i], dims, depth + 1, where)
}

export const elementCount = (dims: number[]): number => dims.reduce((a, b) => a * b, 1)

type Sink = (i: number, x: unknown) => void

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
}

/** Standard base64 (RFC 4648 §4), padding optional; the URL-safe alphabet is accepted as well. */
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/
const B64_URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/

/** Node's base64 decoder skips characters it does not know; TF Serving refuses them (400), and so do we. */
function decodeB64(b64: string, where: string): string {
  if (!B64.test(b64) && !B64_URL.test(b64)) {
    const shown = b64 === NAN_SENTINEL ? 'NaN' : JSON.stringify(b64.slice(0, 20))
    throw badRequest(`${where}: {"b64": ${shown}${b64.length > 20 ? '...' : ''}} is not valid base64`)
  }
  return Buffer.from(b64, B64.test(b64) ? 'base64' : 'base64url').toString('utf8')
}

function describe(x: unknown): string {
  if (typeof x === 'string') return x === NAN_SENTINEL ? 'NaN' : x.startsWith(BIGINT_PREFIX) ? x.slice(2, 42) : `the string ${JSON.stringify(x.slice(0, 20))}`
  if (isB64(x)) return 'a {"b64": ...} value'
  if (Array.isArray(x)) return 'a list (ragged nesting)'
  return x === null ? 'null' : typeof x === 'object' ? 'an object' : `${typeof x} ${String(x)}`
}

/** The digits of a long-integer sentinel (json-body), or undefined for any other value — including a
 * client's own string that merely starts like one. */
function sentinelDigits(x: unknown): string | undefined {
  if (typeof x !== 'string' || !x.startsWith(BIGINT_PREFIX)) return undefined
  const digits = x.slice(2)
  return /^-?\d{1,21}$/.test(digits) ? digits : undefined
}

function toNumber(x: unknown): number | undefined {
  if (typeof x === 'number') return x
  if (x === NAN_SENTINEL) return NaN
  const d = sentinelDigits(x)
  return d === undefined ? undefined : Number(d)
}

/** Allocates storage for `dtype` and returns a sink that checks and stores one JSON leaf. */
function makeStore(dtype: DType, n: number, where: string): {data: Tensor['data']; put: Sink} {
  const bad = (x: unknown, want: string): never => {
    throw badRequest(`${where}: expected ${want} for a ${dtype} tensor, got ${describe(x)}`)
  }
  switch (dtype) {
    case 'float32':
    case 'float64': {
      const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)
      return {
        data,
        put: (i, x) => {
          const v = typeof x === 'number' ? x : toNumber(x)
          data[i] = v === undefined ? bad(x, 'numbers (NaN and Infinity allowed)') : v
        },
      }
    }
    case 'float16': {
      const data = new Uint16Array(n)
      return {
        data,
        put: (i, x) => {
          const v = toNumber(x)
          data[i] = float32ToFloat16Bits(v === undefined ? bad(x, 'numbers') : v)
        },
      }
    }
    case 'bool': {
      const data = new Uint8Array(n)
      return {
        data,
        put: (i, x) => {
          data[i] = typeof x === 'boolean' ? (x ? 1 : 0) : bad(x, 'true or false')
        },
      }
    }
    case 'string': {
      const data: string[] = new Array(n)
      return {
        data,
        put: (i, x) => {
          if (typeof x === 'string' && x !== NAN_SENTINEL && !x.startsWith(BIGINT_PREFIX)) data[i] = x
          else if (isB64(x)) data[i] = decodeB64(x.b64, where)
          else bad(x, 'strings or {"b64": "..."} values')
        },
      }
    }
    case 'int64':
    case 'uint64': {
      const data = dtype === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n)
      const [lo, hi] = dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n]
      return {
        data,
        put: (i, x) => {
          let b: bigint | undefined
          if (typeof x === 'number' && Number.isInteger(x)) b = BigInt(x)
          else {
            const d = sentinelDigits(x)
            if (d !== undefined) b = BigInt(d)
          }
          if (b === undefined || b < lo || b > hi) bad(x, `integers in [${lo}, ${hi}]`)
          data[i] = b!
        },
      }
    }
    default: {
      const range = INT_RANGE[dtype]
      const Ctor = {int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array}[dtype as string]
      if (!range || !Ctor) throw badRequest(`${where}: tensors of type ${dtype} cannot be sent as JSON`)
      const data = new Ctor(n)
      const [lo, hi] = range
      return {
        data,
        put: (i, x) => {
          if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) bad(x, `integers in [${lo}, ${hi}]`)
          data[i] = x as number
        },
      }
    }
  }
}

/** Decodes a nested JSON list (or scalar) into a tensor of `dtype`; `where` names it in errors. */
export function decodeTensor(v: unknown, dtype: DType, where: string): Tensor {
  const dims = inferDims(v)
  if (dims.length > MAX_RANK) throw badRequest(`${where}: lists nested more than ${MAX_RANK} deep; a tensor has at most ${MAX_RANK} dimensions`)
  if (dtype === 'float32' || dtype === 'float64') {
    const fast = decodeFloatsFast(v, dims, dtype)
    if (fast) return fast
  }
  checkRagged(v, dims, 0, where)
  const n = elementCount(dims)
  const {data, put} = makeStore(dtype, n, where)
  let k = 0
  const walk = (node: unknown, depth: number): void => {
    if (depth === dims.length) {
      put(k++, node)
      return
    }
    const list = node as unknown[]
    if (depth === dims.length - 1) for (let i = 0; i < list.length; i++) put(k++, list[i])
    else for (let i = 0; i < list.length; i++) walk(list[i], depth + 1)
  }
  walk(v, 0)
  return {dtype, dims, data}
}

/**
 * The hot path for the common case (float rows of plain numbers, rank ≤ 2): plain loops, no per-element
 * closure. Returns undefined on anything unusual, and the general decoder then reports it precisely.
 */
function decodeFloatsFast(v: unknown, dims: number[], dtype: 'float32' | 'float64'): Tensor | undefined {
  if (dims.length !== 1 && dims.length !== 2) return undefined
  const rows = dims.length === 1 ? [v as unknown[]] : (v as unknown[])
  const w = dims[dims.length - 1]!
  // Every row's length first: nothing is allocated for a ragged body (see checkRagged).
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]
    if (!Array.isArray(row) || row.length !== w) return undefined
  }
  const n = rows.length * w
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)
  let k = 0
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as unknown[]
    for (let i = 0; i < w; i++) {
      const x = row[i]
      if (typeof x !== 'number') return undefined
      data[k++] = x
    }
  }
  return {dtype, dims, data}
}

/** Writes elements [offset, offset + prod(dims)) of `t` as nested JSON lists. */
export function encodeRange(t: Tensor, offset: number, dims: number[], asB64 = false): string {
  if (t.dtype === 'float32' && dims.length === 1) {
    // The common case (one row of a float32 output), without closures.
    const d = t.data as Float32Array
    const n = dims[0]!
    let s = '['
    for (let i = 0; i < n; i++) s += (i ? ',' : '') + formatFloat32(d[offset + i]!)
    return `${s}]`
  }
  const fmt = leafFormatter(t, asB64)
  let s = ''
  let k = offset
  const walk = (depth: number): void => {
    if (depth === dims.length) {
      s += fmt(k++)
      return
    }
    const len = dims[depth]!
    s += '['
    for (let i = 0; i < len; i++) {
      if (i) s += ','
      walk(depth + 1)
    }
    s += ']'
  }
  walk(0)
  return s
}

export function leafFormatter(t: Tensor, asB64: boolean): (i: number) => string {
  const d = t.data
  switch (t.dtype) {
    case 'float32':
      return (i) => formatFloat32((d as Float32Array)[i]!)
    case 'float64':
      return (i) => formatFloat64((d as Float64Array)[i]!)
    case 'float16':
      return (i) => formatFloat32(float16BitsToFloat32Scalar((d as Uint16Array)[i]!))
    case 'bool':
      return (i) => ((d as Uint8Array)[i] ? 'true' : 'false')
    case 'string':
      return asB64 ? (i) => `{"b64":"${Buffer.from((d as string[])[i]!, 'utf8').toString('base64')}"}` : (i) => JSON.stringify((d as string[])[i])
    default:
      return (i) => String((d as ArrayLike<number | bigint>)[i])
  }
}

/** The whole tensor as JSON text. */
export const encodeTensor = (t: Tensor, asB64 = false): string => encodeRange(t, 0, t.dims, asB64)

/** Row r (the 0th-dimension slice) of `t` as JSON text. */
export function encodeRow(t: Tensor, r: number, asB64 = false): string {
  const inner = t.dims.slice(1)
  let n = 1
  for (const d of inner) n *= d
  return encodeRange(t, r * n, inner, asB64)
}
