/**
 * Open-loop send schedules (pure). wrk2's method: request i has an *intended* send time fixed before the
 * run, and its latency is measured from that time, so a stalled server cannot hide its stall by slowing
 * the generator down (coordinated omission).
 */

import {mulberry32} from '../stats/prng.js'

/** Re-exported: schedules and body choices use the same seeded PRNG as the statistics. */
export {mulberry32}

export type Arrival = 'poisson' | 'constant'

/**
 * Gaps between intended sends, in seconds. Constant: exactly 1/rate. Poisson: exponential gaps with mean
 * 1/rate (inverse-CDF sampling; 1-u keeps the log argument in (0, 1]).
 */
export function interArrivalGaps(rate: number, arrival: Arrival, rand: () => number): () => number {
  if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${rate}`)
  if (arrival === 'constant') return () => 1 / rate
  return () => -Math.log(1 - rand()) / rate
}

/** Intended send offsets (seconds from the start) of the first n requests: the whole schedule, for tests. */
export function scheduleOffsets(rate: number, arrival: Arrival, n: number, seed = 1): number[] {
  const gap = interArrivalGaps(rate, arrival, mulberry32(seed))
  const out: number[] = []
  // The first request goes at t = 0 for a constant schedule; Poisson starts after one gap.
  let t = arrival === 'constant' ? 0 : gap()
  for (let i = 0; i < n; i++) {
    out.push(t)
    t += gap()
  }
  return out
}

/** Streaming form used by the open-loop generator: next() returns the next intended offset in seconds. */
export class Schedule {
  private t: number
  private readonly gap: () => number
  constructor(rate: number, arrival: Arrival, seed = 1) {
    this.gap = interArrivalGaps(rate, arrival, mulberry32(seed))
    this.t = arrival === 'constant' ? 0 : this.gap()
  }
  /** Offset (s) of the next send, without consuming it. */
  peek(): number {
    return this.t
  }
  next(): number {
    const t = this.t
    this.t += this.gap()
    return t
  }
}
