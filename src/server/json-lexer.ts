/**
 * The byte-level JSON primitives the predict decoders share (predict-bytes.ts, json-floats.ts): the
 * byte classes, a cursor for the structure around the tensors, one number token as a correctly rounded
 * double, and the bail-out to the JSON.parse path (the reference, which words every 400).
 */
/** Thrown inside the decoders to bail out to the reference path; never escapes predict-bytes. */
export const BAIL = Symbol('bail')
export const bail = (): never => {
  throw BAIL
}

export const WS = new Uint8Array(256)
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1
/** Bytes that end a leaf token: , ] } and the spaces (one table load per byte in the hot loops). */
export const LEAF_END = new Uint8Array(256)
LEAF_END[0x2c] = LEAF_END[0x5d] = LEAF_END[0x7d] = LEAF_END[0x20] = LEAF_END[0x09] = LEAF_END[0x0a] = LEAF_END[0x0d] = 1

/** 10^k, k = 0..22, exact doubles (Clinger's fast path). */
export const POW10 = Array.from({length: 23}, (_, k) => 10 ** k)

/** A value's place in the body. */
export interface Span {
  start: number
  end: number
}

/** A cursor over the body for the structure around the tensors (keys, signature names). */
export class Reader {
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

/** Parses one JSON number token [s, e) as a correctly rounded double, or bails on bad syntax. */
export function parseNumber(b: Uint8Array, s: number, e: number): number {
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
export function tokenEnd(b: Uint8Array, p: number): number {
  const n = b.length
  while (p < n && !LEAF_END[b[p]!]) p++
  return p
}

/** Whether [s, e) is exactly `word` (NaN, Infinity, true...). */
export const lit = (b: Uint8Array, s: number, e: number, word: string): boolean => {
  if (e - s !== word.length) return false
  for (let i = 0; i < word.length; i++) if (b[s + i] !== word.charCodeAt(i)) return false
  return true
}
