/**
 * The stability rule (pure), after Triton perf_analyzer: a point is stable when, over the last `windows`
 * (3) measurement windows, max/min ≤ 1 + pct/100 for both throughput and latency — the MEAN latency by
 * default, as perf_analyzer judges unless given --percentile, or p99 (`latency: 'p99'`). A one-second
 * window's p99 rests on its few slowest requests, so on a shared machine it rarely settles within 10%. The caller keeps
 * measuring windows up to a trial limit; points that never settle are marked unstable, not averaged away.
 */
export interface StabilityInput {
  throughput: number
  p99Ms: number
  meanMs?: number
}

export type StabilityLatency = 'mean' | 'p99'

export interface StabilityVerdict {
  stable: boolean
  /** max/min − 1 over the judged windows, as a percentage (Infinity when a min is 0). */
  throughputSpreadPct: number
  p99SpreadPct: number
  /** Spread of the mean latency (absent for samples without it). */
  meanSpreadPct?: number
  /** Which latency the verdict judged. */
  latency?: StabilityLatency
  judged: number
}

const spreadPct = (xs: number[]): number => {
  const min = Math.min(...xs)
  const max = Math.max(...xs)
  if (max === 0) return 0
  if (min <= 0) return Infinity
  return (max / min - 1) * 100
}

export function judgeStability(samples: StabilityInput[], pct = 10, windows = 3, latency: StabilityLatency = 'p99'): StabilityVerdict {
  if (samples.length < windows) return {stable: false, throughputSpreadPct: NaN, p99SpreadPct: NaN, latency, judged: samples.length}
  const last = samples.slice(-windows)
  const t = spreadPct(last.map((s) => s.throughput))
  const p99 = spreadPct(last.map((s) => s.p99Ms))
  const mean = last.every((s) => s.meanMs !== undefined) ? spreadPct(last.map((s) => s.meanMs!)) : undefined
  const p = latency === 'mean' ? (mean ?? p99) : p99
  // A window with no completed request has throughput 0 — never "stable", whatever the others say.
  const anyEmpty = last.some((s) => s.throughput <= 0)
  // Compare with a small epsilon so 1.10 exactly (the documented bound) counts as within.
  return {
    stable: !anyEmpty && t <= pct + 1e-9 && p <= pct + 1e-9,
    throughputSpreadPct: t,
    p99SpreadPct: p99,
    ...(mean !== undefined ? {meanSpreadPct: mean} : {}),
    latency,
    judged: windows,
  }
}
