/**
 * Mann-Whitney U test (Wilcoxon rank-sum), normal approximation with tie and continuity correction —
 * the same definition as SciPy's stats.mannwhitneyu(method='asymptotic', use_continuity=True), so
 * results can be checked against it. Rank tests suit benchmark windows: they ignore the size of
 * outliers (one GC pause in one window) and assume no distribution shape.
 */
import {normalSf} from './normal.js'

export type Alternative = 'two-sided' | 'less' | 'greater'

export interface MannWhitneyResult {
  n1: number
  n2: number
  /** U for the first sample: pairs (xi, yj) with xi > yj, ties counting ½ (SciPy's `statistic`). */
  u1: number
  u2: number
  /** Standard deviation of U under H0, tie-corrected. 0 when every value is equal. */
  sigma: number
  /** Signed z of u1 (without continuity correction): negative when x tends to be smaller than y. */
  z: number
  /** P-value of the requested alternative. */
  p: number
  pTwoSided: number
  /** H1: x is stochastically less than y. */
  pLess: number
  /** H1: x is stochastically greater than y. */
  pGreater: number
  /** Whether any tied values were found (across both samples). */
  ties: boolean
}

/** Ranks 1..n of values, ties given the average of the ranks they span; also Σ(t³ − t) over tie groups. */
export function rankWithTies(values: readonly number[]): {ranks: number[]; tieTerm: number} {
  const n = values.length
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!)
  const ranks = new Array<number>(n)
  let tieTerm = 0
  for (let i = 0; i < n; ) {
    let j = i
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++
    const t = j - i + 1
    const avg = (i + j + 2) / 2 // ranks i+1 .. j+1
    for (let k = i; k <= j; k++) ranks[order[k]!] = avg
    if (t > 1) tieTerm += t * t * t - t
    i = j + 1
  }
  return {ranks, tieTerm}
}

function checkSample(name: string, x: readonly number[]): void {
  if (x.length === 0) throw new RangeError(`Mann-Whitney: sample ${name} is empty`)
  for (const v of x) if (!Number.isFinite(v)) throw new RangeError(`Mann-Whitney: sample ${name} has a non-finite value (${v})`)
}

export function mannWhitneyU(x: readonly number[], y: readonly number[], opts: {alternative?: Alternative; continuity?: boolean} = {}): MannWhitneyResult {
  checkSample('x', x)
  checkSample('y', y)
  const alternative = opts.alternative ?? 'two-sided'
  const cc = opts.continuity === false ? 0 : 0.5
  const n1 = x.length
  const n2 = y.length
  const n = n1 + n2
  const {ranks, tieTerm} = rankWithTies([...x, ...y])
  let r1 = 0
  for (let i = 0; i < n1; i++) r1 += ranks[i]!
  const u1 = r1 - (n1 * (n1 + 1)) / 2
  const u2 = n1 * n2 - u1
  const mu = (n1 * n2) / 2
  // Var(U) = n1·n2/12 · ((n+1) − Σ(t³−t)/(n(n−1))): ties shrink the variance.
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)))
  const sigma = Math.sqrt(Math.max(0, variance))
  // One-sided p for "x greater" uses u1, for "x less" uses u2, each shifted by the continuity
  // correction towards the mean; two-sided doubles the larger-U tail (SciPy's convention), capped at 1.
  const tail = (u: number) => (sigma === 0 ? 1 : Math.min(1, normalSf((u - mu - cc) / sigma)))
  const pGreater = tail(u1)
  const pLess = tail(u2)
  const pTwoSided = sigma === 0 ? 1 : Math.min(1, 2 * tail(Math.max(u1, u2)))
  const p = alternative === 'two-sided' ? pTwoSided : alternative === 'less' ? pLess : pGreater
  return {n1, n2, u1, u2, sigma, z: sigma === 0 ? 0 : (u1 - mu) / sigma, p, pTwoSided, pLess, pGreater, ties: tieTerm > 0}
}

/** C(n, k) as a double (exact while below 2^53, which covers every n where it matters here). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0
  k = Math.min(k, n - k)
  let c = 1
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i
  return Math.round(c)
}

/**
 * The smallest p-value the test can ever produce for sample sizes n1, n2 — reached when the two
 * samples do not overlap at all. If this is not below alpha, no data can show a significant change.
 *  - 'exact': the exact permutation distribution: 1/C(n1+n2, n1) one-sided, twice that two-sided
 *    (n = 3 per side: 0.1; n = 4: 0.0286 — benchstat's figures).
 *  - 'normal': what the normal approximation with continuity correction (the test tfsopt runs)
 *    gives at complete separation without ties; slightly larger than exact for small samples.
 */
export function minReachableP(n1: number, n2: number, opts: {alternative?: Alternative; method?: 'exact' | 'normal'} = {}): number {
  if (n1 < 1 || n2 < 1) return 1
  const sides = (opts.alternative ?? 'two-sided') === 'two-sided' ? 2 : 1
  if ((opts.method ?? 'normal') === 'exact') return Math.min(1, sides / binomial(n1 + n2, n1))
  const mu = (n1 * n2) / 2
  const sigma = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12)
  return Math.min(1, sides * normalSf((n1 * n2 - mu - 0.5) / sigma))
}

/**
 * The smallest n (samples per side, equal sides) for which p < alpha is reachable at all — the
 * number a "too few samples" error asks for. Practical benchmarks need more than this minimum:
 * it only makes significance possible, for perfectly separated samples.
 */
export function minSamplesPerSide(alpha: number, opts: {alternative?: Alternative; method?: 'exact' | 'normal'} = {}): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`)
  for (let n = 1; n <= 10_000; n++) if (minReachableP(n, n, opts) < alpha) return n
  throw new RangeError(`alpha ${alpha} is too small to be reachable`)
}
