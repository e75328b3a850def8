/**
 * Medians and a distribution-free confidence interval for the median.
 *
 * simple-statistics' median/quantile are reused for point estimates; the bootstrap has its own
 * allocation-free median (bootstrap.ts) because it runs tens of thousands of times.
 */
import {median as ssMedian, quantile as ssQuantile} from 'simple-statistics'

export function median(x: readonly number[]): number {
  if (x.length === 0) return NaN
  return ssMedian(x as number[])
}

/** p in [0, 1]; simple-statistics' definition (the one its median agrees with). */
export function quantile(x: readonly number[], p: number): number {
  if (x.length === 0) return NaN
  return ssQuantile(x as number[], p)
}

export interface Interval {
  lo: number
  hi: number
  /** The coverage actually achieved (order-statistic intervals only reach discrete levels). */
  level: number
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2), summed exactly enough for the n of a benchmark (≤ ~1000). */
function binomHalfCdf(n: number, k: number): number {
  if (k < 0) return 0
  // Work in logs so C(n, i) / 2^n does not overflow for large n.
  let logC = 0 // log C(n, 0)
  let sum = 0
  const log2n = n * Math.LN2
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log((n - i + 1) / i)
    sum += Math.exp(logC - log2n)
  }
  return Math.min(1, sum)
}

/**
 * Order-statistic confidence interval for the median (what benchstat reports): [x_(k), x_(n−k+1)]
 * covers the true median with probability 1 − 2·P(Bin(n, ½) ≤ k−1), whatever the distribution.
 * We take the narrowest such interval with coverage ≥ level. With too few samples even [min, max]
 * falls short (n = 5 gives 93.75%); then [min, max] is returned with its true, lower, coverage.
 */
export function medianCI(x: readonly number[], level = 0.95): Interval {
  const n = x.length
  if (n === 0) return {lo: NaN, hi: NaN, level: 0}
  const s = [...x].sort((a, b) => a - b)
  let k = 1
  let coverage = 1 - 2 * binomHalfCdf(n, 0)
  if (coverage >= level) {
    // Widen k (narrow the interval) while coverage stays at or above level.
    while (k + 1 <= n - k) {
      const next = 1 - 2 * binomHalfCdf(n, k)
      if (next < level) break
      k++
      coverage = next
    }
  }
  if (n === 1) coverage = 0
  return {lo: s[k - 1]!, hi: s[n - k]!, level: coverage}
}
