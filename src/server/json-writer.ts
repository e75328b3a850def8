/**
 * A growable byte buffer for writing JSON answers as bytes (ASCII only on the hot path), with float
 * formatting that keeps number-format.ts's exact output: TF Serving's 6-then-9 significant digits for
 * float32 and 15-then-17 for float64, written as JavaScript's String(number) writes the chosen double.
 *
 * float32 fast path: the 6 (or 9) digits are computed as an integer m with one correctly rounded
 * multiplication by an exact power of ten; m is exact unless the scaled value lies within the product's
 * rounding error of a rounding tie (then number-format.ts decides). Whether 6 digits round-trip is
 * checked with Clinger's exact m·10^q (m < 2^53, |q| ≤ 22). Values outside ~1e-16..1e21 (where 10^q
 * is not exact) take number-format.ts too, so every answer is number-format.ts's answer.
 */
import {formatFloat32, formatFloat64} from './number-format.js'

/** 10^k for k = 0..22: exactly representable doubles. */
const POW10 = Array.from({length: 23}, (_, k) => 10 ** k)

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

/** Digits of a positive integer m (< 2^53) with trailing zeros removed, written in String(number)'s layout. */
function writeDecimal(w: JsonWriter, negative: boolean, m: number, exp10: number): void {
  // exp10: the power of ten of m's first digit. Strip trailing zeros.
  while (m % 10 === 0) m /= 10
  // Digit count k.
  let k = 1
  while (k < 16 && m >= POW10[k]!) k++
  w.ensure(k + 28)
  const b = w.buf
  let p = w.pos
  if (negative) b[p++] = 45
  const n = exp10 + 1 // JS Number::toString's n: the decimal point sits after n digits
  if (n >= k && n <= 21) {
    p = digits(b, p, m, k)
    for (let i = k; i < n; i++) b[p++] = 48
  } else if (n > 0 && n <= 21) {
    // Digits with the point inside: write all digits, then shift the fraction right by one.
    const start = p
    p = digits(b, p, m, k)
    b.copyWithin(start + n + 1, start + n, p)
    b[start + n] = 46
    p++
  } else if (n > -6 && n <= 0) {
    b[p++] = 48
    b[p++] = 46
    for (let i = 0; i < -n; i++) b[p++] = 48
    p = digits(b, p, m, k)
  } else {
    const start = p
    p = digits(b, p, m, k)
    if (k > 1) {
      b.copyWithin(start + 2, start + 1, p)
      b[start + 1] = 46
      p++
    }
    b[p++] = 101
    b[p++] = n - 1 < 0 ? 45 : 43
    let e = Math.abs(n - 1)
    if (e >= 100) {
      b[p++] = 48 + Math.floor(e / 100)
      e %= 100
      b[p++] = 48 + Math.floor(e / 10)
      b[p++] = 48 + (e % 10)
    } else if (e >= 10) {
      b[p++] = 48 + Math.floor(e / 10)
      b[p++] = 48 + (e % 10)
    } else b[p++] = 48 + e
  }
  w.pos = p
}

/** Writes the k decimal digits of m at p; returns the position after them. */
function digits(b: Uint8Array, p: number, m: number, k: number): number {
  let q = p + k
  const end = q
  while (q > p) {
    const d = m % 10
    b[--q] = 48 + d
    m = (m - d) / 10
  }
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
  let e10 = Math.floor(Math.log10(x))
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
    writeDecimal(w, negative, m, e10)
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
  writeDecimal(w, negative, m9, e9)
  return true
}
