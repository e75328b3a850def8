/**
 * Che's approximation for an LRU cache under the independent reference model (Che, Tung & Wang 2002;
 * Fricker, Robert & Roberts 2012): the characteristic time T_C solves Σ_i (1 − e^(−q_i·T_C)) = C, where
 * C is how many objects fit; object i is then in the cache with probability h_i = 1 − e^(−q_i·T_C), and
 * the hit ratio is H = Σ_i q_i·h_i. Used for models under a memory budget (serve --model-memory-budget):
 * "objects" are models, C how many fit, q_i each model's share of the requests.
 */

/** Zipf popularity over n items: q_i ∝ i^(−s), i = 1..n, normalised. */
export function zipfPopularity(n: number, s: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`)
  if (!(s >= 0)) throw new RangeError(`the Zipf exponent must be ≥ 0, got ${s}`)
  const w = Array.from({length: n}, (_, i) => (i + 1) ** -s)
  const sum = w.reduce((a, b) => a + b, 0)
  return w.map((x) => x / sum)
}

export interface CheResult {
  /** The characteristic time T_C, in units of requests (Infinity when everything fits). */
  characteristicTime: number
  /** Per item: the probability that it is cached (h_i). */
  perItem: number[]
  /** Overall hit ratio H = Σ q_i h_i; the miss ratio is 1 − H. */
  hitRatio: number
}

/** Che's approximation for LRU holding `capacity` of the items whose request shares are `popularity`. */
export function cheLru(popularity: number[], capacity: number): CheResult {
  const n = popularity.length
  if (!n) throw new RangeError('popularity is empty')
  if (popularity.some((q) => !(q >= 0))) throw new RangeError('popularity values must be ≥ 0')
  const total = popularity.reduce((a, b) => a + b, 0)
  if (!(total > 0)) throw new RangeError('popularity must not be all zero')
  const q = popularity.map((x) => x / total)
  const live = q.filter((x) => x > 0).length
  if (capacity <= 0) return {characteristicTime: 0, perItem: q.map(() => 0), hitRatio: 0}
  if (capacity >= live) return {characteristicTime: Infinity, perItem: q.map((x) => (x > 0 ? 1 : 0)), hitRatio: 1}
  const occupied = (t: number) => q.reduce((a, x) => a - Math.expm1(-x * t), 0)
  // occupied(t) rises from 0 to `live`: bracket, then bisect to machine precision.
  let lo = 0
  let hi = 1
  while (occupied(hi) < capacity) hi *= 2
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2
    if (occupied(mid) < capacity) lo = mid
    else hi = mid
  }
  const t = (lo + hi) / 2
  const perItem = q.map((x) => -Math.expm1(-x * t))
  return {characteristicTime: t, perItem, hitRatio: q.reduce((a, x, i) => a + x * perItem[i]!, 0)}
}
