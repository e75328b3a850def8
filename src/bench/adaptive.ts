/**
 * Adaptive search over the load levels of each group (one server configuration × client variant). Pure
 * decision logic: the engine measures whatever `next` asks for and reports it back.
 *
 * The objective is the highest throughput of a clean point meeting the SLO (p99 ≤ --slo-p99; with no SLO,
 * any clean point). A point that breaks the SLO or has errors is worth 0: p99 only rises with the load in
 * a closed loop, so nothing above such a point is ever measured.
 *
 * 1. First group: climb from the bottom of the list two entries at a time (×4 on a power-of-2 list) and
 *    stop once a step gains < 5% of the objective (Model Analyzer's stop rule; an SLO break or errors
 *    gain nothing), or the list ends. Then at most one refinement, in a gap next to the best point where a
 *    level could still beat it by 5% (see below), nearest the predicted knee when that lies in the gap
 *    (USL peak when ≥ 6 points, else the asymptotic-bounds knee), else at the gap's geometric midpoint;
 *    not measured when the station model (closed loop, once calibrated) forecasts that level below the
 *    best point plus the gain margin: its throughput rises with N to a plateau, so it sees the plateau.
 * 2. Later groups start from the best level of the group before (raised toward the load the SLO allows,
 *    below) and walk one list entry at a time: up while each step gains ≥ 5% and meets the SLO; down
 *    instead when the start breaks the SLO (until a point meets it, then while it gains) or is the top
 *    of the list (unless the group before was still rising at the top: then a start there that meets the
 *    SLO is the group's only point, since batching more does not move the peak lower). The walk stops at the first neighbour that gains < 5%: a configuration whose start and
 *    first neighbour are both poor costs two points.
 *
 * Where a later group starts (`nextStart`): the previous group's best level, or, in a closed loop with an
 * SLO, higher: past saturation R = N/X grows linearly in N, so the highest clean point (N₀, p99₀) that met
 * the SLO predicts the SLO to break near N₀·SLO/p99₀. Configurations that batch more gain throughput up to
 * that load, so their search starts at the largest list level ≤ that prediction (and below any level the
 * group saw break the SLO) instead of re-climbing from a knee found without batching.
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
  /** Index in `loads` to start from (a later group): the neighbour walk instead of the climb. */
  hintIndex?: number
  /** Refinement points allowed after the first group's climb (default 1). */
  refine?: number
  knee?: (measured: LoadResult[]) => number | undefined
  /**
   * The station model's throughput forecast at a load (closed loop, once it can be calibrated): a
   * refinement whose level it forecasts below the best point by the gain margin is not measured.
   */
  forecast?: (load: number) => number | undefined
  /**
   * The group before had its best at the top of the list (still rising there): a later group that starts
   * at the top and meets the SLO there does not walk down (more batching does not move the peak lower).
   */
  risingAtTop?: boolean
}

export const meetsSlo = (r: LoadResult, slo?: number): boolean => r.clean && (slo === undefined || r.p99Ms <= slo)

/** The objective: throughput of a clean point within the SLO, else 0. */
const value = (r: LoadResult, slo?: number): number => (meetsSlo(r, slo) ? r.throughput : 0)

/** The point with the highest objective (ties: the lower load), or undefined when none is worth > 0. */
export function bestOf(measured: LoadResult[], slo?: number): LoadResult | undefined {
  let best: LoadResult | undefined
  for (const m of measured)
    if (value(m, slo) > 0 && (!best || value(m, slo) > value(best, slo) || (value(m, slo) === value(best, slo) && m.load < best.load))) best = m
  return best
}

/** The next load level to measure, or undefined when the search of this group is done. */
export function nextLoad(loads: number[], measured: LoadResult[], o: AdaptiveOptions = {}): number | undefined {
  if (!loads.length) return undefined
  const last = loads.length - 1
  const gain = 1 + (o.gainPct ?? 5) / 100
  const slo = o.sloP99Ms
  const byLoad = new Map(measured.map((m) => [m.load, m]))

  if (o.hintIndex !== undefined) {
    // Later group: the neighbour walk from the start level.
    let j = Math.min(Math.max(o.hintIndex, 0), last)
    let cur = byLoad.get(loads[j]!)
    if (!cur) return loads[j]
    if (j === last && meetsSlo(cur, slo) && o.risingAtTop) return undefined
    const dir = meetsSlo(cur, slo) && j < last ? 1 : -1
    for (;;) {
      j += dir
      if (j < 0 || j > last) return undefined
      const r = byLoad.get(loads[j]!)
      if (!r) return loads[j]
      // Walking down from a point that breaks the SLO (or had errors): go on until one meets it.
      const improved = value(cur, slo) === 0 ? dir < 0 : value(r, slo) > value(cur, slo) * gain
      if (!improved) return undefined
      cur = r
    }
  }

  // First group: the climb, replayed from the bottom over what was measured.
  let i = 0
  let prev: LoadResult | undefined
  let climbed = 0
  for (;;) {
    const r = byLoad.get(loads[i]!)
    if (!r) return loads[i]
    climbed++
    const stop = !meetsSlo(r, slo) || i >= last || (prev !== undefined && !(value(r, slo) > value(prev, slo) * gain))
    if (stop) break
    prev = r
    i = Math.min(i + 2, last)
  }

  // Refinement.
  if (measured.length - climbed >= (o.refine ?? 1)) return undefined
  const best = bestOf(measured, slo)
  if (!best) return undefined
  const sorted = [...measured].sort((a, b) => a.load - b.load)
  const bi = sorted.indexOf(best)
  const lower = sorted[bi - 1]
  const upper = sorted[bi + 1]
  const gap = (n?: LoadResult) => (n ? loads.filter((l) => l > Math.min(n.load, best.load) && l < Math.max(n.load, best.load) && !byLoad.has(l)) : [])
  // Refine only where a level could beat the best by the gain margin: toward an upper neighbour that broke
  // the SLO (or had errors) only if its throughput rose ≥ 5% (else the plateau is reached); toward one that
  // met it (flat or falling: the peak can lie between); toward a lower one only if it is within 5% of the
  // best (a flat pair can straddle a peak; a clearly lower one is the rising side).
  const sides: LoadResult[] = []
  if (upper && (meetsSlo(upper, slo) || upper.throughput >= best.throughput * gain) && gap(upper).length) sides.push(upper)
  if (lower && lower.throughput * gain >= best.throughput && gap(lower).length) sides.push(lower)
  if (!sides.length) return undefined
  const knee = o.knee?.(measured)
  const inside = (n: LoadResult) => knee !== undefined && knee > Math.min(n.load, best.load) && knee < Math.max(n.load, best.load)
  // The side holding the predicted knee, else the neighbour with more throughput (the upper one on ties).
  const side = sides.find(inside) ?? sides.reduce((a, b) => (b.throughput > a.throughput ? b : a))
  const lo = Math.min(side.load, best.load)
  const hi = Math.max(side.load, best.load)
  const target = inside(side) ? knee! : Math.sqrt(lo * hi)
  const pick = gap(side).reduce((a, b) => (Math.abs(Math.log(b / target)) < Math.abs(Math.log(a / target)) ? b : a))
  const forecast = o.forecast?.(pick)
  if (forecast !== undefined && !(forecast >= best.throughput * gain)) return undefined
  return pick
}

export interface StartOptions {
  sloP99Ms?: number
  /** Closed loop (load = concurrency): R = N/X, so the SLO-limited load can be predicted. */
  closedLoop?: boolean
}

/**
 * Where the next group starts (an index in `loads`), from this group's results; `previous` when this
 * group found nothing within the SLO.
 */
export function nextStart(loads: number[], results: LoadResult[], o: StartOptions = {}, previous?: number): number | undefined {
  const slo = o.sloP99Ms
  const best = bestOf(results, slo)
  if (!best || !loads.includes(best.load)) return previous
  let i = loads.indexOf(best.load)
  if (slo !== undefined && o.closedLoop) {
    const ok = results.filter((r) => meetsSlo(r, slo) && r.p99Ms > 0)
    const top = ok.reduce((a, b) => (b.load > a.load ? b : a), best)
    const predicted = top.p99Ms > 0 ? (top.load * slo) / top.p99Ms : top.load
    const broke = Math.min(...results.filter((r) => r.load > top.load && !meetsSlo(r, slo)).map((r) => r.load))
    for (let j = loads.length - 1; j > i; j--) {
      if (loads[j]! <= predicted && loads[j]! < broke) {
        i = j
        break
      }
    }
  }
  return i
}

/**
 * The search across groups, as the engine drives it: `next` for each load of a group, `endGroup` once the
 * group is done (its best, raised toward the SLO-limited load, is where the next group starts).
 */
export class AdaptiveSearch {
  private start?: number
  private risingAtTop = false
  constructor(private readonly o: {sloP99Ms?: number; gainPct?: number} = {}) {}

  next(loads: number[], results: LoadResult[], knee?: AdaptiveOptions['knee'], forecast?: AdaptiveOptions['forecast']): number | undefined {
    return nextLoad(loads, results, {
      sloP99Ms: this.o.sloP99Ms,
      gainPct: this.o.gainPct,
      hintIndex: this.start,
      refine: this.start === undefined ? 1 : 0,
      knee,
      forecast,
      risingAtTop: this.risingAtTop,
    })
  }

  endGroup(loads: number[], results: LoadResult[], closedLoop: boolean): void {
    this.start = nextStart(loads, results, {sloP99Ms: this.o.sloP99Ms, closedLoop}, this.start)
    const best = bestOf(results, this.o.sloP99Ms)
    this.risingAtTop = best !== undefined && best.load === loads[loads.length - 1]
  }
}
