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

/** Thrown inside the decoder to bail out to the reference path; never escapes this module. */
const BAIL = Symbol('bail')
const bail = (): never => {
  throw BAIL
}

const WS = new Uint8Array(256)
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1
/** Bytes that end a leaf token: , ] } and the spaces (one table load per byte in the hot loops). */
const LEAF_END = new Uint8Array(256)
LEAF_END[0x2c] = LEAF_END[0x5d] = LEAF_END[0x7d] = LEAF_END[0x20] = LEAF_END[0x09] = LEAF_END[0x0a] = LEAF_END[0x0d] = 1

/** 10^k, k = 0..22, exact doubles (Clinger's fast path). */
const POW10 = Array.from({length: 23}, (_, k) => 10 ** k)

/** A value's place in the body. */
export interface Span {
  start: number
  end: number
}

class Reader {
  p = 0
  constructor(readonly b: Uint8Array) {}

  ws(): void {
    const b = this.b
    let p = this.p
    while (p < b.length && WS[b[p]!]) p++
    this.p = p
  }

  /** The next non-space byte (not consumed), or -1 at the end. */
  peek(): number {
    this.ws()
    return this.p < this.b.length ? this.b[this.p]! : -1
  }

  expect(c: number): void {
    if (this.peek() !== c) bail()
    this.p++
  }

  /** A string without escapes (keys, signature names); anything fancier bails. */
  str(): string {
    this.expect(0x22)
    const b = this.b
    const s = this.p
    let p = s
    while (p < b.length && b[p] !== 0x22) {
      if (b[p] === 0x5c || b[p]! < 0x20) bail()
      p++
    }
    if (p >= b.length) bail()
    this.p = p + 1
    return Buffer.from(b.buffer, b.byteOffset + s, p - s).toString('utf8')
  }
}

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

/** Parses one JSON number token [s, e) as a correctly rounded double, or bails on bad syntax. */
function parseNumber(b: Uint8Array, s: number, e: number): number {
  let p = s
  const neg = b[p] === 0x2d
  if (neg) p++
  if (p >= e) bail()
  // Integer part: 0 or [1-9][0-9]*
  let m = 0
  let digits = 0
  let exp = 0
  const intStart = p
  if (b[p] === 0x30) {
    p++
  } else {
    while (p < e) {
      const d = b[p]! - 0x30
      if (d < 0 || d > 9) break
      m = m * 10 + d
      digits++
      p++
    }
  }
  if (p === intStart) bail()
  if (p < e && b[p] === 0x2e) {
    p++
    const fs = p
    while (p < e) {
      const d = b[p]! - 0x30
      if (d < 0 || d > 9) break
      if (m !== 0 || d !== 0) digits++
      m = m * 10 + d
      exp--
      p++
    }
    if (p === fs) bail()
  }
  if (p < e && (b[p] === 0x65 || b[p] === 0x45)) {
    p++
    let eneg = false
    if (b[p] === 0x2b || b[p] === 0x2d) eneg = b[p++] === 0x2d
    const es = p
    let ev = 0
    while (p < e) {
      const d = b[p]! - 0x30
      if (d < 0 || d > 9) break
      if (ev < 100000) ev = ev * 10 + d
      p++
    }
    if (p === es) bail()
    exp += eneg ? -ev : ev
  }
  if (p !== e) bail()
  // Clinger: with at most 15 significant digits m is exact, and one multiplication or division by an
  // exact power of ten rounds once, correctly.
  if (digits <= 15 && exp >= -22 && exp <= 22) {
    const v = exp >= 0 ? m * POW10[exp]! : m / POW10[-exp]!
    return neg ? -v : v
  }
  return Number(Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1'))
}

/** Reads the leaf token starting at p (after spaces): returns its end. */
function tokenEnd(b: Uint8Array, p: number): number {
  const n = b.length
  while (p < n && !LEAF_END[b[p]!]) p++
  return p
}

const lit = (b: Uint8Array, s: number, e: number, word: string): boolean => {
  if (e - s !== word.length) return false
  for (let i = 0; i < word.length; i++) if (b[s + i] !== word.charCodeAt(i)) return false
  return true
}

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

/**
 * The float leaves of a scanned span, in one pass per number: the digits are read once, straight into
 * m·10^exp, and the token's end is where they stop (parseNumber needs a second pass to find it first).
 * The first pass (scanShape) has checked the structure and that every leaf ends at a delimiter, so a
 * digit run cannot pass the span's end. Plain decimals take the fast path: Clinger's exact one for ≤ 15
 * digits. For float32 with more (numpy's 17-digit tolist()) the double is only needed up to float32
 * rounding: m·10^exp accumulated in doubles is within ~30 ulps (2^-48 relative) of the correctly
 * rounded double, and when both ends of that interval round to the same float32 it is the answer
 * JSON.parse + Float32Array gives; otherwise (a float32 tie within 2^-48, ~1 value in 2^25) parseNumber
 * decides exactly. Exponents, literals and everything odd go to parseNumber too, which words nothing:
 * it bails.
 */
function fillFloats(b: Uint8Array, span: Span, data: Float32Array | Float64Array, offset: number, mask: number, f32: boolean): void {
  let k = 0
  let p = span.start
  const end = span.end
  const n = b.length
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  while (p < end) {
    let c = b[p]!
    if (c === 0x2c || c === 0x5b || c === 0x5d || WS[c]) {
      p++
      continue
    }
    const s = p
    const neg = c === 0x2d
    if (neg) c = b[++p]!
    let m = 0
    let digits = 0
    let exp = 0
    let d = c - 0x30
    if (d === 0) d = b[++p]! - 0x30
    else if (d > 0 && d <= 9) {
      do {
        m = m * 10 + d
        digits++
        d = b[++p]! - 0x30
      } while (d >= 0 && d <= 9)
    } else d = -1 // not a digit: NaN, Infinity or bad syntax, below
    let v: number
    if (d === 0x2e - 0x30 && p > s + (neg ? 1 : 0)) {
      const fs = ++p
      for (;;) {
        // Four digits at a time once past the leading zeros, while they fit in the 19 kept: all four
        // bytes in '0'..'9' (the SWAR test of leafEnd), then their value from the bytes of w − '0000'.
        if (m !== 0 && digits <= 15 && p + 4 <= n) {
          const w = dv.getUint32(p, true)
          if (!((((w - 0x30303030) & ~w) | (w + 0x46464646) | w) & 0x80808080)) {
            const x = w - 0x30303030
            m = m * 10000 + ((x & 0xff) * 1000 + ((x >>> 8) & 0xff) * 100 + ((x >>> 16) & 0xff) * 10 + (x >>> 24))
            digits += 4
            exp -= 4
            p += 4
            continue
          }
        }
        d = b[p]! - 0x30
        if (!(d >= 0 && d <= 9)) break
        if (m !== 0 || d !== 0) digits++
        // Digits past the 19th change the value by < 1e-18 relative: absorbed by the interval test.
        if (digits <= 19) {
          m = m * 10 + d
          exp--
        }
        p++
      }
      if (p === fs) bail()
    }
    if (p === s + (neg ? 1 : 0) || (!LEAF_END[b[p]!] && p < end)) {
      // No digits, an exponent or something else after them: the token parsers (and literals).
      const e = tokenEnd(b, s)
      c = b[s]!
      if (c === 0x4e /* N */ || c === 0x49 /* I */ || (c === 0x2d && b[s + 1] === 0x49)) {
        if (lit(b, s, e, 'NaN')) v = NaN
        else if (lit(b, s, e, 'Infinity')) v = Infinity
        else if (lit(b, s, e, '-Infinity')) v = -Infinity
        else v = bail()
      } else v = parseNumber(b, s, e)
      p = e
    } else if (digits <= 15 && exp >= -22) {
      v = m / POW10[-exp]!
      if (neg) v = -v
    } else if (!f32 || exp < -22 || m > 1e300) {
      v = parseNumber(b, s, p)
    } else {
      v = m / POW10[-exp]!
      const lo = Math.fround(v * (1 - 2 ** -44))
      v = lo === Math.fround(v * (1 + 2 ** -44)) ? (neg ? -lo : lo) : parseNumber(b, s, p)
    }
    data[offset + (k++ & mask)] = v
  }
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
  plan: {info: TensorInfo; dims: number[]; span: Span}[]
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
  const {format, signature, plan} = scanned ?? scan(body, inputs)
  // A single input whose shape the model refuses is validated without allocating its tensor.
  const refuse = plan.length === 1 && !shapeFits(plan[0]!.dims, plan[0]!.info)
  const feeds: Feeds = {}
  for (const {info, dims, span} of plan) {
    const n = elementCount(dims)
    feeds[info.name] = {dtype: info.dtype, dims, data: fill(body, span, info.dtype, n, !refuse)}
  }
  // As predict-codec's decodePredict: the signature first, then the shapes.
  const sig = signature === undefined ? DEFAULT_SIGNATURE : checkSignature(signature)
  checkShapes(feeds, inputs)
  return {format, signature: sig, feeds}
}

function scan(body: Uint8Array, inputs: TensorInfo[]): ScannedPredict {
  const r = new Reader(body)
  r.expect(0x7b)
  let signature: string | undefined
  let format: 'row' | 'columnar' | undefined
  /** Tensors by name ('' for the single unnamed one) with their shapes, first pass only. */
  const found = new Map<string, {dims: number[]; span: Span}>()
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
          const t = scanShape(r)
          r.p = t.span.end
          found.set(name, t)
          const c = r.peek()
          r.p++
          if (c === 0x7d) break
          if (c !== 0x2c) bail()
        }
      } else {
        const t = scanShape(r)
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
