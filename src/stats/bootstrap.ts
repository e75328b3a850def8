/**
 * Percentile bootstrap confidence interval of the ratio of medians, new / base (criterion.rs' way of
 * putting an interval around a relative change). Each resample draws both samples independently with
 * replacement; the CI is the (α/2, 1 − α/2) quantiles of the resampled ratios. Seeded, so the same
 * inputs always give the same interval.
 */
import {mulberry32} from './prng.js'
import {median} from './quantile.js'

export const DEFAULT_RESAMPLES = 10_000
export const DEFAULT_SEED = 0x7f5e_0001

export interface BootstrapOptions {
  /** Number of resamples (default 10,000). */
  resamples?: number
  /** Two-sided confidence level of the interval (default 0.95). */
  level?: number
  seed?: number
}

export interface RatioCI {
  /** median(next) / median(base) on the original samples. */
  ratio: number
  lo: number
  hi: number
  level: number
  resamples: number
  /** Resamples dropped because the base median was 0 (the ratio is undefined there). */
  dropped: number
}

/** Median of buf[0..n) in place (buf is scratch). Sorting a typed array is numeric and allocation-free. */
function medianInPlace(buf: Float64Array): number {
  buf.sort()
  const n = buf.length
  const h = n >> 1
  return n % 2 === 1 ? buf[h]! : (buf[h - 1]! + buf[h]!) / 2
}

function resampleMedian(src: readonly number[], buf: Float64Array, rng: () => number): number {
  const n = src.length
  for (let i = 0; i < n; i++) buf[i] = src[Math.floor(rng() * n)]!
  return medianInPlace(buf)
}

/** Linear-interpolated quantile of an ascending Float64Array (the same definition as R type 7). */
function sortedQuantile(s: Float64Array, p: number): number {
  if (s.length === 0) return NaN
  const h = (s.length - 1) * p
  const lo = Math.floor(h)
  const hi = Math.ceil(h)
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!)
}

export function bootstrapRatioOfMedians(base: readonly number[], next: readonly number[], opts: BootstrapOptions = {}): RatioCI {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES
  const level = opts.level ?? 0.95
  if (!Number.isInteger(resamples) || resamples < 100) throw new RangeError(`resamples must be an integer ≥ 100, got ${resamples}`)
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be in (0, 1), got ${level}`)
  if (base.length === 0 || next.length === 0) throw new RangeError('bootstrap needs non-empty samples')
  const rng = mulberry32(opts.seed ?? DEFAULT_SEED)
  const bb = new Float64Array(base.length)
  const nb = new Float64Array(next.length)
  const ratios = new Float64Array(resamples)
  let kept = 0
  for (let r = 0; r < resamples; r++) {
    const mb = resampleMedian(base, bb, rng)
    const mn = resampleMedian(next, nb, rng)
    const q = mn / mb
    if (Number.isFinite(q)) ratios[kept++] = q
  }
  const ok = ratios.subarray(0, kept).sort()
  const a = (1 - level) / 2
  return {
    ratio: median(next) / median(base),
    lo: sortedQuantile(ok, a),
    hi: sortedQuantile(ok, 1 - a),
    level,
    resamples,
    dropped: resamples - kept,
  }
}
