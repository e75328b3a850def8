import {requireNonNegative, requirePositive, requireUnit} from './validate.js'

/**
 * Response cache. H = hits/requests (measured; it depends on the request mix, so bench controls the
 * fraction of repeated inputs). Units: seconds.
 *
 * Mean latency is a mixture (law of total expectation): E[T] = H·t_hit + (1−H)·t_miss.
 * The server's work per request shrinks to H·E[S_hit] + (1−H)·E[S_miss], so capacity rises by
 * E[S_miss] / (H·E[S_hit] + (1−H)·E[S_miss]) (utilisation law) — queueing.md §Cache.
 */
export function cacheLatency(hitRatio: number, hitTime: number, missTime: number): number {
  requireUnit('hit ratio', hitRatio)
  requireNonNegative('hit time', hitTime)
  requireNonNegative('miss time', missTime)
  return hitRatio * hitTime + (1 - hitRatio) * missTime
}

/** Capacity gain factor and the capacity itself with c workers (service times in seconds). */
export function cacheCapacity(hitRatio: number, hitService: number, missService: number, workers = 1) {
  requireUnit('hit ratio', hitRatio)
  requireNonNegative('hit service time', hitService)
  requirePositive('miss service time', missService)
  const work = hitRatio * hitService + (1 - hitRatio) * missService
  return {workPerRequest: work, gain: work > 0 ? missService / work : Infinity, capacity: work > 0 ? workers / work : Infinity}
}

/**
 * Seed article 000's cache formula T_c = L(1−H) + 1/H, reproduced only to show it beside the correct
 * one. It is wrong: 1/H has no time unit (it adds a pure number to seconds, so the result changes with
 * the unit L is given in), and it grows as the hit ratio falls — infinite at H = 0, where the correct
 * mean is simply t_miss. L is taken as the miss latency.
 */
export function articleCacheForm(hitRatio: number, latency: number): number {
  requireUnit('hit ratio', hitRatio)
  requireNonNegative('latency', latency)
  return latency * (1 - hitRatio) + 1 / hitRatio
}
