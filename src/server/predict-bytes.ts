/**
 * The predict body decoded straight from its bytes: numbers go from the Buffer into the input's typed
 * array with no JSON.parse tree and no JS value per number. It covers the hot shapes — a top-level
 * object with "signature_name" and "inputs" (a tensor, or an object of named tensors) or "instances"
 * (a list of tensors for a one-input model) — holding numeric, bool, NaN/±Infinity and int64 values.
 *
 * Anything else (named instances, strings and b64, float16, empty lists, duplicate or unknown keys,
 * escapes, and every malformed or ill-typed body) returns undefined, and the caller uses the JSON.parse
 * path (json-body.ts + predict-codec.ts), which is the reference: it words every 400. So this decoder
 * never answers differently; it only throws where that path would throw the same thing (signature,
 * missing/unknown inputs, checkShapes), and only after the whole body has decoded cleanly, as there.
 *
 * Memory: a first pass over each tensor's bytes finds its shape (and its raggedness) before anything
 * is allocated; the second pass parses into the typed array. A single-input body whose shape the model
 * refuses is parsed into a one-element scratch array instead (values still validated, so the error is
 * the same): O(body) memory for a hostile body, O(body + tensor) for a good one.
 */
import type {DType, TensorInfo} from '../models/dtypes.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import {checkShapes, checkSignature, DEFAULT_SIGNATURE, type DecodedPredict} from './predict-codec.js'
import {MAX_RANK} from './tensor-json.js'
import {bail, BAIL, LEAF_END, lit, parseNumber, Reader, type Span, tokenEnd, WS} from './json-lexer.js'
import {fillFloats, NOT_FUSED, scanFillFloats} from './json-floats.js'

/**
 * The end of the leaf token at p: four bytes at a time while all four lie in '-'..'9' (sign, point,
 * digits: none of them ends a token), then byte by byte to the first LEAF_END. Most of a numeric body's
 * bytes are digits, and this first pass reads every one of them. The word test is the classic SWAR pair:
 * (w − 0x2d…) & ~w has a high bit set iff some byte is below 0x2d; (w + 0x46…) | w iff some byte is above
 * 0x39 (or has its own high bit).
 */
function leafEnd(b: Uint8Array, dv: DataView, p: number, n: number): number {
  while (p + 4 <= n) {
    const w = dv.getUint32(p, true)
    if ((((w - 0x2d2d2d2d) & ~w) | (w + 0x46464646) | w) & 0x80808080) break
    p += 4
  }
  while (p < n && !LEAF_END[b[p]!]) p++
  return p
}

/**
 * First pass over one tensor value: its shape from the first elements (as tensor-json's inferDims),
 * every list checked against it, leaves only at the deepest level. Bails on any irregularity.
 */
function scanShape(r: Reader): {dims: number[]; span: Span} {
  const b = r.b
  r.ws()
  const start = r.p
  let p = start
  let dims: number[] = []
  const counts: number[] = []
  let depth = 0
  let rank = -1 // known once the first leaf is seen
  const n = b.length
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (;;) {
    while (p < n && WS[b[p]!]) p++
    if (p >= n) bail()
    const c = b[p]!
    if (c === 0x5b /* [ */) {
      if (rank >= 0 && depth >= rank) bail() // a list where a leaf belongs
      if (depth >= MAX_RANK) bail()
      counts[depth] = 0
      depth++
      p++
      continue
    }
    // A leaf; an empty list (']' straight after '['), an object or a string is the reference path's.
    if (c === 0x5d || c === 0x2c || c === 0x7b || c === 0x7d || c === 0x22) bail()
    if (rank < 0) {
      rank = depth
      dims = new Array<number>(rank).fill(-1)
    } else if (depth !== rank) bail()
    p = leafEnd(b, dv, p, n)
    // After an element: ',' continues its list, ']' closes it (and the closed list is an element of its parent).
    for (;;) {
      if (depth === 0) return {dims, span: {start, end: p}}
      while (p < n && WS[b[p]!]) p++
      if (p >= n) bail()
      const d = b[p++]!
      const lvl = depth - 1
      counts[lvl]!++
      if (d === 0x2c) break
      if (d !== 0x5d) bail()
      // The first list to close at a depth is the first-element chain's: it fixes that dimension.
      if (dims[lvl] === -1) dims[lvl] = counts[lvl]!
      else if (dims[lvl] !== counts[lvl]) bail()
      depth--
    }
  }
}

const elementCount = (dims: number[]) => dims.reduce((a, x) => a * x, 1)

/** -?(0|[1-9][0-9]*): JSON's integer grammar, no fraction or exponent. */
function isJsonInteger(b: Uint8Array, s: number, e: number): boolean {
  const d0 = b[s] === 0x2d ? s + 1 : s
  if (d0 >= e || (b[d0] === 0x30 && e - d0 > 1)) return false
  for (let i = d0; i < e; i++) if (b[i]! < 0x30 || b[i]! > 0x39) return false
  return true
}

const INT_ARRAYS = {int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array} as const
const INT_RANGE: Record<keyof typeof INT_ARRAYS, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
}

/** Second pass: parses every leaf of `span` into storage for `dtype` (`count` leaves; `store` false: validate only). */
function fill(b: Uint8Array, span: Span, dtype: DType, count: number, store: boolean): Tensor['data'] {
  const data = allocFor(dtype, store ? count : 1)
  fillAt(b, span, dtype, data, 0, store ? -1 : 0)
  return data
}

/** A typed array for `n` values of a FAST_TYPES dtype. */
export function allocFor(dtype: DType, n: number): Exclude<Tensor['data'], string[]> {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n)
    case 'float64':
      return new Float64Array(n)
    case 'bool':
      return new Uint8Array(n)
    case 'int64':
      return new BigInt64Array(n)
    case 'uint64':
      return new BigUint64Array(n)
    default: {
      const Ctor = INT_ARRAYS[dtype as keyof typeof INT_ARRAYS]
      if (!Ctor) return bail()
      return new Ctor(n)
    }
  }
}

/**
 * Parses the leaves of `span` into `data` from index `offset` (`mask` 0: every value into the scratch
 * slot `offset`, validating only). A batch's tensor is filled this way, one request's rows at a time.
 */
function fillAt(b: Uint8Array, span: Span, dtype: DType, out: Exclude<Tensor['data'], string[]>, offset: number, mask: number): void {
  let k = 0
  let p = span.start
  const end = span.end
  // Walk leaves: skip structure bytes, parse each token.
  const next = (): number => {
    while (p < end) {
      const c = b[p]!
      if (c === 0x5b || c === 0x5d || c === 0x2c || WS[c]) p++
      else return p
    }
    return -1
  }
  switch (dtype) {
    case 'float32':
    case 'float64':
      fillFloats(b, span, out as Float32Array | Float64Array, offset, mask, dtype === 'float32')
      return
    case 'bool': {
      const data = out as Uint8Array
      for (let s = next(); s >= 0; s = next()) {
        const e = tokenEnd(b, s)
        data[offset + (k++ & mask)] = lit(b, s, e, 'true') ? 1 : lit(b, s, e, 'false') ? 0 : bail()
        p = e
      }
      return
    }
    case 'int64':
    case 'uint64': {
      const data = out as BigInt64Array | BigUint64Array
      const [lo, hi] = dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n]
      for (let s = next(); s >= 0; s = next()) {
        const e = tokenEnd(b, s)
        // Plain integers only (as json-body's sentinels: up to 21 characters); the rest is the reference path's.
        if (e - s > 21 || !isJsonInteger(b, s, e)) bail()
        const v = BigInt(Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1'))
        if (v < lo || v > hi) bail()
        data[offset + (k++ & mask)] = v
        p = e
      }
      return
    }
    default: {
      const Ctor = INT_ARRAYS[dtype as keyof typeof INT_ARRAYS]
      if (!Ctor) {
        bail()
        return
      }
      const [lo, hi] = INT_RANGE[dtype as keyof typeof INT_ARRAYS]
      const data = out as Exclude<Tensor['data'], string[] | BigInt64Array | BigUint64Array>
      for (let s = next(); s >= 0; s = next()) {
        const e = tokenEnd(b, s)
        const v = parseNumber(b, s, e)
        if (!Number.isInteger(v) || v < lo || v > hi) bail()
        data[offset + (k++ & mask)] = v
        p = e
      }
      return
    }
  }
}

const FAST_TYPES = new Set<DType>(['float32', 'float64', 'bool', 'int64', 'uint64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'])

/** Decodes a predict body from bytes; undefined when the JSON.parse path must handle (or word) it. */
export function decodePredictBytes(body: Uint8Array, inputs: TensorInfo[], scanned?: ScannedPredict | null): DecodedPredict | undefined {
  // `scanned`: the first pass already made (scanPredictBytes; null where it bailed), not made again.
  if (scanned === null) return undefined
  try {
    return decode(body, inputs, scanned)
  } catch (err) {
    if (err === BAIL) return undefined
    throw err
  }
}

/** What the first pass found: the format, the signature as written, and where each input's values are. */
export interface ScannedPredict {
  format: 'row' | 'columnar'
  signature: string | undefined
  plan: ({info: TensorInfo} & Scanned)[]
}

/** One tensor value of the body: its shape and place, and its values where the first pass parsed them. */
interface Scanned {
  dims: number[]
  span: Span
  data?: Float32Array | Float64Array
}

/**
 * The first pass alone (structure, shapes, keys; no number is parsed): enough to validate a request and
 * batch it, so the values can be parsed later, elsewhere (a worker thread). Undefined where the
 * JSON.parse path must take the body.
 */
export function scanPredictBytes(body: Uint8Array, inputs: TensorInfo[]): ScannedPredict | undefined {
  try {
    return scan(body, inputs)
  } catch (err) {
    if (err === BAIL) return undefined
    throw err
  }
}

/**
 * The second pass for one input of a scanned body: its values into `out` from `offset`. False where the
 * byte decoder gives up on a value (the JSON.parse path then words the error, or reads it).
 */
export function fillScanned(body: Uint8Array, span: Span, dtype: DType, out: Exclude<Tensor['data'], string[]>, offset: number): boolean {
  try {
    fillAt(body, span, dtype, out, offset, -1)
    return true
  } catch (err) {
    if (err === BAIL) return false
    throw err
  }
}

export const isFastType = (d: DType) => FAST_TYPES.has(d)

function decode(body: Uint8Array, inputs: TensorInfo[], scanned?: ScannedPredict): DecodedPredict {
  let sc = scanned
  if (!sc)
    try {
      // Structure and float values in one pass where it can; a fixed dimension that turns out wrong
      // (NOT_FUSED) is the two-pass way's, which validates a refused tensor without allocating it.
      sc = scan(body, inputs, true)
    } catch (err) {
      if (err !== NOT_FUSED) throw err
      sc = scan(body, inputs)
    }
  const {format, signature, plan} = sc
  // A single input whose shape the model refuses is validated without allocating its tensor.
  const refuse = plan.length === 1 && !shapeFits(plan[0]!.dims, plan[0]!.info)
  const feeds: Feeds = {}
  for (const {info, dims, span, data} of plan) {
    const n = elementCount(dims)
    feeds[info.name] = {dtype: info.dtype, dims, data: data ?? fill(body, span, info.dtype, n, !refuse)}
  }
  // As predict-codec's decodePredict: the signature first, then the shapes.
  const sig = signature === undefined ? DEFAULT_SIGNATURE : checkSignature(signature)
  checkShapes(feeds, inputs)
  return {format, signature: sig, feeds}
}

/**
 * The first pass over the body (structure, keys, each tensor's shape and span). `fuse`: float tensors
 * are parsed on the way too (scanFillFloats), for a body decoded here and now; without it no number is
 * parsed (a body whose values a worker parses, or one to validate without allocating its tensor).
 */
function scan(body: Uint8Array, inputs: TensorInfo[], fuse = false): ScannedPredict {
  const r = new Reader(body)
  const value = (info: TensorInfo | undefined): Scanned =>
    fuse && (info?.dtype === 'float32' || info?.dtype === 'float64') ? scanFillFloats(r, info.dtype === 'float32', info.shape) : scanShape(r)
  r.expect(0x7b)
  let signature: string | undefined
  let format: 'row' | 'columnar' | undefined
  /** Tensors by name ('' for the single unnamed one) with their shapes, first pass only. */
  const found = new Map<string, Scanned>()
  const seen = new Set<string>()
  if (r.peek() === 0x7d) bail()
  for (;;) {
    const key = r.str()
    if (seen.has(key)) bail()
    seen.add(key)
    r.expect(0x3a)
    if (key === 'signature_name') {
      if (r.peek() !== 0x22) bail()
      signature = r.str()
    } else if (key === 'inputs' || key === 'instances') {
      if (format) bail() // both: the reference path words it
      format = key === 'inputs' ? 'columnar' : 'row'
      if (r.peek() === 0x7b) {
        if (format === 'row') bail()
        r.p++
        if (r.peek() === 0x7d) bail()
        for (;;) {
          const name = r.str()
          if (name === '' || name === 'b64' || found.has(name)) bail()
          r.expect(0x3a)
          const t = value(inputs.find((i) => i.name === name))
          r.p = t.span.end
          found.set(name, t)
          const c = r.peek()
          r.p++
          if (c === 0x7d) break
          if (c !== 0x2c) bail()
        }
      } else {
        const t = value(inputs.length === 1 ? inputs[0] : undefined)
        r.p = t.span.end
        // Row format: the instances list itself is the tensor; it must be a non-empty list.
        if (format === 'row' && t.dims.length === 0) bail()
        found.set('', t)
      }
    } else bail()
    const c = r.peek()
    r.p++
    if (c === 0x7d) break
    if (c !== 0x2c) bail()
  }
  if (r.peek() !== -1) bail()
  if (!format) return bail()
  // Which input each tensor feeds; anything the reference path would refuse is left to it.
  const plan: ScannedPredict['plan'] = []
  if (found.has('')) {
    if (inputs.length !== 1) bail()
    plan.push({info: inputs[0]!, ...found.get('')!})
  } else {
    if (found.size !== inputs.length) bail()
    for (const info of inputs) {
      const t = found.get(info.name)
      if (!t) bail()
      plan.push({info, ...t!})
    }
  }
  for (const {info} of plan) if (!FAST_TYPES.has(info.dtype)) bail()
  return {format, signature, plan}
}

/** As checkShapes, for one input: rank and every fixed dimension. */
export function shapeFits(dims: number[], info: TensorInfo): boolean {
  if (!info.shape) return true
  return dims.length === info.shape.length && info.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === dims[i])
}
