/**
 * Float tensors read from JSON bytes: one number at a time (readFloat), the leaves of a span the first
 * pass found (fillFloats: the worker's half of a scanned body), or structure and numbers together in one
 * pass (scanFillFloats: a body decoded on the spot, whose bytes are then read once, not twice).
 */
import {bail, LEAF_END, lit, parseNumber, POW10, type Reader, type Span, tokenEnd, WS} from './json-lexer.js'
import {MAX_RANK} from './tensor-json.js'

/**
 * One float leaf starting at p (not a space or a delimiter), correctly rounded, into out[i]; returns
 * where it ends. (Storing it here rather than returning it keeps the double unboxed: a call that returns
 * a double allocates a heap number for it, 5 MB of garbage for a 300k-value tensor.)
 * The digits are read once, straight into m·10^exp, and the token's end is where they stop (parseNumber
 * needs a second pass to find it first). Plain decimals take the fast path: Clinger's exact one for
 * ≤ 15 digits. For float32 with more (numpy's 17-digit tolist()) the double is only needed up to float32
 * rounding: m·10^exp accumulated in doubles is within ~30 ulps (2^-48 relative) of the correctly rounded
 * double, and when both ends of that interval round to the same float32 it is the answer JSON.parse +
 * Float32Array gives; otherwise (a float32 tie within 2^-48, ~1 value in 2^25) parseNumber decides
 * exactly. Exponents, literals and everything odd go to parseNumber too, which words nothing: it bails.
 * `end`: where the leaf must end at the latest (a scanned span's end; the body's length otherwise).
 */
function readFloat(b: Uint8Array, dv: DataView, p: number, end: number, f32: boolean, out: Float32Array | Float64Array, i: number): number {
  const n = b.length
  let c = b[p]!
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
  out[i] = v
  return p
}

/**
 * The float leaves of a scanned span into `data` from `offset` (`mask` 0: every value into that one
 * slot, validating only). The first pass (scanShape) has checked the structure and that every leaf ends
 * at a delimiter, so structure bytes are skipped here and a digit run cannot pass the span's end.
 */
export function fillFloats(b: Uint8Array, span: Span, data: Float32Array | Float64Array, offset: number, mask: number, f32: boolean): void {
  let k = 0
  let p = span.start
  const end = span.end
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  while (p < end) {
    const c = b[p]!
    if (c === 0x2c || c === 0x5b || c === 0x5d || WS[c]) {
      p++
      continue
    }
    p = readFloat(b, dv, p, end, f32, data, offset + (k++ & mask))
  }
}

/** Thrown when a dimension the model fixes turns out different: the caller decodes that body the two-pass way. */
export const NOT_FUSED = Symbol('not fused')

/** The values of the body being decoded, kept between bodies (one thread decodes one body at a time). */
let scratch32 = new Float32Array(1 << 16)
let scratch64 = new Float64Array(1 << 12)
/** A scratch array larger than this many values is dropped after its body, not kept. */
const KEEP = 1 << 22

/**
 * scanShape and fillFloats in one pass, for a float tensor decoded where it is read: the same structure
 * checks (its shape from the first elements, every list against it, leaves only at the deepest level,
 * bail on anything irregular), with each leaf parsed as it is met instead of skipped. Values go into a
 * scratch array and are copied out, at the end, into the tensor's own exactly sized array. `shape`, the
 * model's, is checked as each dimension becomes known: a body the model would refuse stops with
 * NOT_FUSED before its values pile up, and the caller validates it the two-pass way, which allocates
 * nothing for a refused tensor.
 * The structure loop repeats scanShape's (predict-bytes.ts) on purpose: sharing it would put a call per
 * leaf, with two different callees, in both hot loops.
 */
export function scanFillFloats(
  r: Reader,
  f32: boolean,
  shape: readonly unknown[] | null | undefined,
): {dims: number[]; span: Span; data: Float32Array | Float64Array} {
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
  let data: Float32Array<ArrayBuffer> | Float64Array<ArrayBuffer> = f32 ? scratch32 : scratch64
  let k = 0
  const fixed = (lvl: number, v: number) => {
    const want = shape?.[lvl]
    if (typeof want === 'number' && want >= 0 && want !== v) throw NOT_FUSED
  }
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
      if (shape && shape.length !== rank) throw NOT_FUSED
      dims = new Array<number>(rank).fill(-1)
    } else if (depth !== rank) bail()
    if (k === data.length) {
      const grown = f32 ? new Float32Array(2 * k) : new Float64Array(2 * k)
      grown.set(data)
      data = grown
    }
    p = readFloat(b, dv, p, n, f32, data, k++)
    // After an element: ',' continues its list, ']' closes it (and the closed list is an element of its parent).
    for (;;) {
      if (depth === 0) {
        const out = f32 ? new Float32Array(k) : new Float64Array(k)
        out.set(data.subarray(0, k))
        if (data.length <= KEEP) {
          if (f32) scratch32 = data as Float32Array<ArrayBuffer>
          else scratch64 = data as Float64Array<ArrayBuffer>
        }
        return {dims, span: {start, end: p}, data: out}
      }
      while (p < n && WS[b[p]!]) p++
      if (p >= n) bail()
      const d = b[p++]!
      const lvl = depth - 1
      counts[lvl]!++
      if (d === 0x2c) break
      if (d !== 0x5d) bail()
      // The first list to close at a depth is the first-element chain's: it fixes that dimension.
      if (dims[lvl] === -1) fixed(lvl, (dims[lvl] = counts[lvl]!))
      else if (dims[lvl] !== counts[lvl]) bail()
      depth--
    }
  }
}
