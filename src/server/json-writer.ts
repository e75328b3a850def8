/**
 * A growable byte buffer for writing JSON answers as bytes (ASCII only on the hot path), with float
 * formatting that keeps number-format.ts's exact output: TF Serving's 6-then-9 significant digits for
 * float32 and 15-then-17 for float64, written as JavaScript's String(number) writes the chosen double.
 *
 * float32 fast path: the power of ten comes from the exponent bits (no Math.log10), the 6 (or 9) digits are computed as an integer m with one correctly rounded
 * multiplication by an exact power of ten; m is exact unless the scaled value lies within the product's
 * rounding error of a rounding tie (then number-format.ts decides). Whether 6 digits round-trip is
 * checked with Clinger's exact m·10^q (m < 2^53, |q| ≤ 22). Values outside ~1e-16..1e21 (where 10^q
 * is not exact) take number-format.ts too, so every answer is number-format.ts's answer.
 */
import {formatFloat32, formatFloat64} from './number-format.js'

/** 10^k for k = 0..22: exactly representable doubles. */
const POW10 = Array.from({length: 23}, (_, k) => 10 ** k)
const LOG10_2 = Math.log10(2)
/** One float32 seen as its bits (the exponent field gives the power of ten without Math.log10). */
const F32 = new Float32Array(1)
const U32 = new Uint32Array(F32.buffer)

export class JsonWriter {
  buf: Uint8Array
  pos = 0

  /** `initial`: a size, or a buffer to write into (a recycled one: body-pool.ts). */
  constructor(initial: number | Uint8Array = 1024) {
    this.buf = typeof initial === 'number' ? new Uint8Array(Math.max(16, initial)) : initial
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.ensure(1)
    this.buf[this.pos++] = c
  }

  /** Writes a string of ASCII characters (JSON punctuation, formatted numbers). */
  ascii(s: string): void {
    const n = s.length
    this.ensure(n)
    const b = this.buf
    let p = this.pos
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i)
    this.pos = p
  }

  /** Writes any string as UTF-8 (keys, string tensors already JSON-quoted). */
  utf8(s: string): void {
    const n = Buffer.byteLength(s)
    this.ensure(n)
    this.pos += Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, n).write(s, 'utf8')
  }

  /** The bytes written, as a Buffer over the same memory (no copy). */
  result(): Buffer {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, this.pos)
  }

  float64(v: number): void {
    this.ascii(formatFloat64(v))
  }

  float32(v: number): void {
    if (!writeFloat32Fast(this, v)) this.ascii(formatFloat32(v))
  }
}

/** "00".."99": two digits per division when writing a mantissa. */
const PAIRS = new Uint8Array(200)
for (let i = 0; i < 100; i++) {
  PAIRS[2 * i] = 48 + Math.floor(i / 10)
  PAIRS[2 * i + 1] = 48 + (i % 10)
}

/**
 * Writes m (p significant digits, m < 10^9 so int32 arithmetic is exact) as String(number) writes
 * m·10^(exp10-p+1): trailing zeros stripped, the point placed, an exponent outside 1e-7..1e21.
 */
function writeDecimal(w: JsonWriter, negative: boolean, m: number, exp10: number, p: number): void {
  const n0 = exp10 + 1
  // The point among or before the digits (the common case): writePlain. What is left here is an
  // integer padded with zeros (p ≤ n ≤ 21) or the exponent form.
  if (n0 > -6 && n0 < p) {
    writePlain(w, negative, m | 0, n0, p)
    return
  }
  // k: the digit count once trailing zeros are gone (known from p, so no counting loop). m | 0: int32
  // arithmetic below (m < 10^9).
  m |= 0
  let k = p
  while (m % 10 === 0) {
    m = (m / 10) | 0
    k--
  }
  w.ensure(k + 28)
  const b = w.buf
  let q = w.pos
  if (negative) b[q++] = 45
  const n = exp10 + 1 // JS Number::toString's n: the decimal point sits after n digits
  if (n >= k && n <= 21) {
    q = digits(b, q, m, k)
    for (let i = k; i < n; i++) b[q++] = 48
  } else {
    // d.ddde±x: the first digit, the point, the rest.
    if (k > 1) {
      const lead = Math.floor(m / POW10[k - 1]!)
      b[q++] = 48 + lead
      b[q++] = 46
      q = digits(b, q, m - lead * POW10[k - 1]!, k - 1)
    } else b[q++] = 48 + m
    b[q++] = 101
    b[q++] = n - 1 < 0 ? 45 : 43
    let e = Math.abs(n - 1)
    if (e >= 100) {
      b[q++] = 48 + Math.floor(e / 100)
      e %= 100
      b[q++] = PAIRS[2 * e]!
      b[q++] = PAIRS[2 * e + 1]!
    } else if (e >= 10) {
      b[q++] = PAIRS[2 * e]!
      b[q++] = PAIRS[2 * e + 1]!
    } else b[q++] = 48 + e
  }
  w.pos = q
}

/** "0000".."9999": four digits per table copy. */
const QUADS = new Uint8Array(40000)
for (let i = 0; i < 10000; i++) {
  QUADS[4 * i] = 48 + Math.floor(i / 1000)
  QUADS[4 * i + 1] = 48 + (Math.floor(i / 100) % 10)
  QUADS[4 * i + 2] = 48 + (Math.floor(i / 10) % 10)
  QUADS[4 * i + 3] = 48 + (i % 10)
}

/**
 * The common layouts, without the exponent: n ≤ 0 ("0.000ddd", n > −6) and a point inside the p digits
 * (0 < n < p). All p digits are written from tables (m < 10^p, p = 6 or 9) and the trailing zeros
 * trimmed from the bytes afterwards: no division per digit and no data-dependent loop but the trim.
 */
function writePlain(w: JsonWriter, negative: boolean, m: number, n: number, p: number): void {
  if (w.pos + p + 10 > w.buf.length) w.ensure(p + 10)
  const b = w.buf
  let q = w.pos
  if (negative) b[q++] = 45
  let point = -1
  if (n <= 0) {
    b[q++] = 48
    b[q++] = 46
    for (let i = 0; i < -n; i++) b[q++] = 48
  } else point = q + n
  // Leave room for the point inside: digits after it shift one byte right.
  const start = q
  if (p === 9) {
    const hi = (m / 100_000_000) | 0
    const r = m - hi * 100_000_000
    const mid = (r / 10_000) | 0
    const lo = r - mid * 10_000
    b[q++] = 48 + hi
    q = quad(b, q, mid)
    q = quad(b, q, lo)
  } else {
    const hi = (m / 10_000) | 0
    const lo = m - hi * 10_000
    b[q++] = PAIRS[2 * hi]!
    b[q++] = PAIRS[2 * hi + 1]!
    q = quad(b, q, lo)
  }
  if (point >= 0) {
    // Shift the fraction right by one and put the point in its place.
    // (A loop: copyWithin's native call costs more than these few bytes.)
    for (let i = q; i > point; i--) b[i] = b[i - 1]!
    b[point] = 46
    q++
    while (b[q - 1] === 48) q--
    if (q - 1 === point) q--
  } else {
    while (b[q - 1] === 48 && q > start + 1) q--
  }
  w.pos = q
}

function quad(b: Uint8Array, q: number, v: number): number {
  const i = 4 * v
  b[q] = QUADS[i]!
  b[q + 1] = QUADS[i + 1]!
  b[q + 2] = QUADS[i + 2]!
  b[q + 3] = QUADS[i + 3]!
  return q + 4
}

/** Writes the k decimal digits of m (< 2^31, leading zeros kept) at p, two per division; returns the position after them. */
function digits(b: Uint8Array, p: number, m: number, k: number): number {
  const end = p + k
  let q = end
  while (q - p >= 2) {
    const t = (m / 100) | 0
    const d = 2 * (m - t * 100)
    b[--q] = PAIRS[d + 1]!
    b[--q] = PAIRS[d]!
    m = t
  }
  if (q > p) b[--q] = 48 + (m % 10)
  return end
}

/**
 * m = round-half-up(x · 10^(p-1-e10)) for p significant digits, or -1 when the double product may have
 * rounded across a tie or the power of ten is not exact.
 */
function scaledDigits(x: number, p: number, e10: number): number {
  const k = p - 1 - e10
  let s: number
  if (k >= 0) {
    if (k > 22) return -1
    s = x * POW10[k]!
  } else {
    if (k < -22) return -1
    s = x / POW10[-k]!
  }
  // The product's error is below 2^-53 · s ≤ 1.2e-7 for s < 10^9: stay clear of ties by far more.
  if (Math.abs(s - Math.floor(s) - 0.5) < 1e-5) return -1
  // Round half up without a branch on the fraction (a coin flip for real data: a mispredicted branch
  // per value cost more than the rest of this function). s + 0.5 may round in its last place, which
  // only matters next to a tie, excluded above.
  return Math.floor(s + 0.5)
}

/** Clinger: m·10^q correctly rounded, for m < 2^53 and |q| ≤ 22. */
const exact = (m: number, q: number): number => (q >= 0 ? m * POW10[q]! : m / POW10[-q]!)

/** The fast float32 path; false when number-format.ts must decide. */
function writeFloat32Fast(w: JsonWriter, v: number): boolean {
  const negative = v < 0
  const x = negative ? -v : v
  // 0, NaN, infinities, and magnitudes where a power of ten would not be exact: the reference path.
  if (!(x >= 1e-15 && x < 1e21)) return false
  // floor(e2·log10 2) is the power of ten of x or one below it: the renormalisation below fixes that.
  F32[0] = x
  let e10 = Math.floor((((U32[0]! >>> 23) & 0xff) - 127) * LOG10_2)
  // Nine digits first: most float32s need all nine, and the six-digit candidate comes from them.
  let m9 = scaledDigits(x, 9, e10)
  if (m9 < 0) return false
  // log10 may be off by one next to a power of ten: renormalise to nine digits.
  if (m9 >= 1_000_000_000) {
    e10++
    m9 = scaledDigits(x, 9, e10)
  } else if (m9 < 100_000_000) {
    e10--
    m9 = scaledDigits(x, 9, e10)
  }
  if (m9 < 100_000_000) return false
  let e9 = e10
  if (m9 >= 1_000_000_000) {
    // Rounded up to the next power of ten: 1.00000000e(e10+1).
    m9 = 100_000_000
    e9++
  }
  // Six digits from nine: round half up on the last three, which is x's own six-digit rounding except
  // when they are exactly 500 (x may lie either side of that tie): then scale x again.
  // (m9 | 0: int32 arithmetic; % on a double is a call to fmod.)
  const rest = (m9 | 0) % 1000
  let m6 = rest === 500 ? scaledDigits(x, 6, e9) : (((m9 | 0) + 500) / 1000) | 0
  let e6 = e9
  if (m6 < 0) return false
  if (m6 >= 1_000_000) {
    m6 = 100_000
    e6++
  }
  const q6 = e6 - 5
  if (m6 >= 100_000 && q6 >= -22 && q6 <= 22 && Math.fround(exact(m6, q6)) === x) {
    writeDecimal(w, negative, m6, e6, 6)
    return true
  }
  writeDecimal(w, negative, m9, e9, 9)
  return true
}
