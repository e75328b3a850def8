/**
 * Large request bodies read into recycled buffers. A body of a few MB read into a fresh buffer costs,
 * per request, the fresh pages (faulted in as the body is copied into them) and the garbage
 * collections that V8 runs when that much external memory comes and goes: on a 5.9 MB JSON body about
 * as much main-thread time as parsing it (docs/BENCHMARKS.md, "One-pass decode, recycled body buffers, default threads"). Bodies decoded
 * on the main thread give their buffer back as soon as their tensors are out of it; a body handed to a
 * worker takes its buffer along (transferred), and the pool simply allocates another.
 *
 * Large JSON answers are written into these buffers too (predict-encode.ts): the main thread's go back
 * to the server's pool when the response finishes; a worker keeps a pool of its own, and each answer's
 * buffer is transferred back to it once sent (`adopt`). ("Recycled answer buffers" in BENCHMARKS.md.)
 *
 * Bounded: only bodies of MIN_POOLED..MAX_POOLED bytes, at most `maxIdleBytes` held idle, and all of it
 * dropped after TRIM_MS without a request that used it.
 */
import {totalmem} from 'node:os'

export const MIN_POOLED = 1 << 20
export const MAX_POOLED = 32 << 20
const TRIM_MS = 10_000

/** The capacity a body of n bytes is read into: n rounded up to an eighth of its power of two (≤ 12.5% spare). */
export function capacityFor(n: number): number {
  const step = 2 ** Math.floor(Math.log2(n)) / 8
  return Math.ceil(n / step) * step
}

export class BodyPool {
  /** Idle buffers by capacity. */
  private free = new Map<number, ArrayBuffer[]>()
  private mine = new WeakSet<ArrayBuffer>()
  private used = false
  private timer: NodeJS.Timeout
  idleBytes = 0

  constructor(readonly maxIdleBytes = Math.min(64 << 20, Math.floor(totalmem() / 64))) {
    // Unused for a whole period: give the memory back.
    this.timer = setInterval(() => {
      if (!this.used) this.clear()
      this.used = false
    }, TRIM_MS)
    this.timer.unref()
  }

  /** A buffer of n bytes: recycled where one fits, else new (from the pool's sizes only when n is in range). */
  take(n: number): Buffer {
    if (n < MIN_POOLED || n > MAX_POOLED) return Buffer.allocUnsafe(n)
    this.used = true
    const cap = capacityFor(n)
    const ab = this.free.get(cap)?.pop()
    if (ab) this.idleBytes -= cap
    const buf = ab ?? new ArrayBuffer(cap)
    this.mine.add(buf)
    return Buffer.from(buf, 0, n)
  }

  /** Whether b lies in one of the pool's buffers (which may be larger than b). */
  owns(b: Uint8Array): boolean {
    return b.byteOffset === 0 && b.buffer instanceof ArrayBuffer && this.mine.has(b.buffer)
  }

  /**
   * Takes b's buffer back. Only once nothing reads it any more: its tensors decoded into their own
   * arrays, no view of it kept. A buffer transferred away (detached) or not the pool's is ignored.
   */
  give(b: Uint8Array): void {
    if (!this.owns(b)) return
    const ab = b.buffer as ArrayBuffer
    const cap = ab.byteLength
    this.mine.delete(ab) // given back once, whatever else holds the view
    if (cap === 0 || this.idleBytes + cap > this.maxIdleBytes) return
    let list = this.free.get(cap)
    if (!list) this.free.set(cap, (list = []))
    list.push(ab)
    this.idleBytes += cap
  }

  /**
   * Takes back a buffer this pool handed out that went to another thread and came back (transferred
   * twice, so a new ArrayBuffer object here, which `mine` does not know). Only the pool's own sizes.
   */
  adopt(ab: ArrayBuffer): void {
    const cap = ab.byteLength
    if (cap < MIN_POOLED || cap > MAX_POOLED || capacityFor(cap) !== cap) return
    this.mine.add(ab)
    this.give(new Uint8Array(ab))
  }

  clear(): void {
    this.free.clear()
    this.idleBytes = 0
  }

  close(): void {
    clearInterval(this.timer)
    this.clear()
  }
}
