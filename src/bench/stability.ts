/**
 * The stability rule (pure), after Triton perf_analyzer: a point is stable when, over the last `windows`
 * (3) measurement windows, max/min ≤ 1 + pct/100 for both throughput and p99 latency. The caller keeps
 * measuring windows up to a trial limit; points that never settle are marked unstable, not averaged away.
 */
export interface StabilityInput {
  throughput: number
  p99Ms: number
}

export interface StabilityVerdict {
  stable: boolean
  /** max/min − 1 over the judged windows, as a percentage (Infinity when a min is 0). */
  throughputSpreadPct: number
  p99SpreadPct: number
  judged: number
}

const spreadPct = (xs: number[]): number => {
  const min = Math.min(...xs)
  const max = Math.max(...xs)
  if (max === 0) return 0
  if (min <= 0) return Infinity
  return (max / min - 1) * 100
}

export function judgeStability(samples: StabilityInput[], pct = 10, windows = 3): StabilityVerdict {
  if (samples.length < windows) return {stable: false, throughputSpreadPct: NaN, p99SpreadPct: NaN, judged: samples.length}
  const last = samples.slice(-windows)
  const t = spreadPct(last.map((s) => s.throughput))
  const p = spreadPct(last.map((s) => s.p99Ms))
  // A window with no completed request has throughput 0 — never "stable", whatever the others say.
  const anyEmpty = last.some((s) => s.throughput <= 0)
  // Compare with a small epsilon so 1.10 exactly (the documented bound) counts as within.
  return {stable: !anyEmpty && t <= pct + 1e-9 && p <= pct + 1e-9, throughputSpreadPct: t, p99SpreadPct: p, judged: windows}
}
