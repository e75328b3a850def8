/**
 * Adaptive search over the load levels of one group (pure decision logic; the engine measures).
 *
 * 1. Climb: from the start level, jump two list entries at a time (one when starting from a hint, the
 *    best level of the previous group), and stop raising once the throughput gain over the previous level
 *    is < 5% AND the SLO is broken (with no SLO, the gain rule alone: Model Analyzer's stop rule), or the
 *    point had errors, or the list ends.
 * 2. Refine (first group only): one unmeasured level between the best point and its better neighbour,
 *    the one nearest the predicted knee (USL peak when ≥ 6 points, else the asymptotic-bounds knee
 *    R(1)·X_max), so the peak the coarse steps straddled is measured.
 */
export interface LoadResult {
  load: number
  throughput: number
  p99Ms: number
  meanMs: number
  /** No errors and not failed. */
  clean: boolean
}

export interface AdaptiveOptions {
  sloP99Ms?: number
  gainPct?: number
  /** Index in `loads` to start from (the previous group's best). */
  hintIndex?: number
  /** Refinement points allowed after the climb. */
  refine?: number
  knee?: (measured: LoadResult[]) => number | undefined
}

const meetsSlo = (r: LoadResult, slo?: number) => r.clean && (slo === undefined || r.p99Ms <= slo)

/** The next load level to measure, or undefined when the search is done. */
export function nextLoad(loads: number[], measured: LoadResult[], o: AdaptiveOptions = {}): number | undefined {
  const gain = (o.gainPct ?? 5) / 100
  const idx = (l: number) => loads.indexOf(l)
  const seen = new Set(measured.map((m) => m.load))
  if (!measured.length) return loads[Math.min(Math.max(o.hintIndex ?? 0, 0), loads.length - 1)]
  const climbStep = o.hintIndex === undefined ? 2 : 1
  // Climb phase: look at the highest level measured so far.
  const sorted = [...measured].sort((a, b) => a.load - b.load)
  const top = sorted.at(-1)!
  const prev = sorted.at(-2)
  const gained = prev ? top.throughput > prev.throughput * (1 + gain) : true
  // With no SLO, "SLO broken" is taken as true: the gain rule alone decides.
  const sloBroken = o.sloP99Ms === undefined || !meetsSlo(top, o.sloP99Ms)
  const stopClimb = !top.clean || idx(top.load) >= loads.length - 1 || (!gained && sloBroken)
  if (!stopClimb) {
    const next = loads[Math.min(idx(top.load) + climbStep, loads.length - 1)]
    if (next !== undefined && !seen.has(next)) return next
  }
  // Started from a hint above the bottom and the first level already breaks the SLO: step down.
  const low = sorted[0]!
  if (o.sloP99Ms !== undefined && !meetsSlo(low, o.sloP99Ms) && idx(low.load) > 0) {
    const down = loads[idx(low.load) - 1]!
    if (!seen.has(down)) return down
  }
  // Refine phase.
  if ((o.refine ?? 0) <= 0) return undefined
  const refinesDone = measured.length - climbCount(loads, measured, o)
  if (refinesDone >= (o.refine ?? 0)) return undefined
  const pool = measured.filter((m) => meetsSlo(m, o.sloP99Ms))
  const best = (pool.length ? pool : measured).reduce((a, b) => (b.throughput > a.throughput ? b : a))
  const bi = sorted.indexOf(best)
  const lower = sorted[bi - 1]
  const upper = sorted[bi + 1]
  const between = (a?: LoadResult, b?: LoadResult) => (a && b ? loads.filter((l) => l > Math.min(a.load, b.load) && l < Math.max(a.load, b.load) && !seen.has(l)) : [])
  const candidates = [...between(lower, best), ...between(best, upper)]
  if (!candidates.length) return undefined
  const knee = o.knee?.(measured)
  const target = knee ?? Math.sqrt(best.load * ((upper && (!lower || upper.throughput >= lower.throughput) ? upper : lower) ?? best).load)
  return candidates.reduce((a, b) => (Math.abs(Math.log(b / target)) < Math.abs(Math.log(a / target)) ? b : a))
}

/** How many of the measured levels the climb itself chose (the rest were refinements). */
function climbCount(loads: number[], measured: LoadResult[], o: AdaptiveOptions): number {
  let n = 0
  const acc: LoadResult[] = []
  for (const m of measured) {
    const want = nextLoad(loads, acc, {...o, refine: 0})
    if (want !== m.load) break
    acc.push(m)
    n++
  }
  return n
}
