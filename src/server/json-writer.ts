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

  constructor(initial = 1024) {
    this.buf = new Uint8Array(Math.max(16, initial))
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
  // k: the digit count once trailing zeros are gone (known from p, so no counting loop).
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
  } else if (n > 0 && n <= 21) {
    // The point inside: the last k-n digits, the point, then the first n (written right to left).
    const end = q + k + 1
    let f = k - n
    let r = end
    while (f-- > 0) {
      const t = (m / 10) | 0
      b[--r] = 48 + m - t * 10
      m = t
    }
    b[--r] = 46
    digits(b, q, m, n)
    q = end
  } else if (n > -6 && n <= 0) {
    b[q++] = 48
    b[q++] = 46
    for (let i = 0; i < -n; i++) b[q++] = 48
    q = digits(b, q, m, k)
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
  const f = Math.floor(s)
  const frac = s - f
  // The product's error is below 2^-53 · s ≤ 1.2e-7 for s < 10^9: stay clear of ties by far more.
  if (Math.abs(frac - 0.5) < 1e-5) return -1
  return frac > 0.5 ? f + 1 : f
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
  let m = scaledDigits(x, 6, e10)
  if (m < 0) return false
  // log10 may be off by one next to a power of ten: renormalise m to six digits.
  if (m >= 1_000_000) {
    e10++
    m = scaledDigits(x, 6, e10)
  } else if (m < 100_000) {
    e10--
    m = scaledDigits(x, 6, e10)
  }
  if (m < 100_000 || m >= 1_000_000) return false
  const q6 = e10 - 5
  if (q6 < -22 || q6 > 22) return false
  if (Math.fround(exact(m, q6)) === x) {
    writeDecimal(w, negative, m, e10, 6)
    return true
  }
  let m9 = scaledDigits(x, 9, e10)
  if (m9 < 0) return false
  let e9 = e10
  if (m9 >= 1_000_000_000) {
    // Rounded up to the next power of ten: 1.00000000e(e10+1).
    m9 = 100_000_000
    e9++
  }
  if (m9 < 100_000_000) return false
  writeDecimal(w, negative, m9, e9, 9)
  return true
}
