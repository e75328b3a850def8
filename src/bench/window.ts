/**
 * What a load generator accumulates during one measurement window. Both generators write into the
 * current window; the point measurer swaps it for a fresh one at each window boundary (rotate), so a
 * window's numbers come only from responses that completed inside it.
 */
import {newHistogram, type Histogram} from './histogram.js'

export interface WindowCounters {
  startedAt: bigint
  /** 2xx responses. */
  ok: number
  inferences: number
  non2xx: number
  timeouts: number
  connection: number
  /** Open loop only: sends that left later than LATE_SEND_MS after their intended time. */
  lateSends: number
  sent: number
  /** Latencies (µs) of 2xx responses only, as autocannon and perf_analyzer do. */
  hist: Histogram
}

export function newWindow(): WindowCounters {
  return {startedAt: process.hrtime.bigint(), ok: 0, inferences: 0, non2xx: 0, timeouts: 0, connection: 0, lateSends: 0, sent: 0, hist: newHistogram()}
}

/** The contract the point measurer drives: closed-loop (autocannon) and open-loop generators implement it. */
export interface LoadGenerator {
  /** Starts sending; resolves once the first requests are in flight. */
  start(): Promise<void>
  /** Closes the current window and opens a new one. */
  rotate(): WindowCounters
  /** Requests in flight right now (for Little's law and diagnostics). */
  inflight(): number
  stop(): Promise<void>
}
