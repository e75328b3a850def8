/**
 * 95% confidence interval of a mean from a few samples (Student's t). A point's measurement windows are
 * batch means (Law & Kelton, Simulation Modeling and Analysis, §9.5.3: long enough windows are nearly
 * independent and normal), so their mean ± t₀.₉₇₅(k−1)·s/√k bounds the point's steady-state mean.
 */

/** t₀.₉₇₅ for 1–30 degrees of freedom (any statistics table, e.g. NIST/SEMATECH e-Handbook §1.3.6.7.2). */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069,
  2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
]

/** t₀.₉₇₅(ν): the table to 30, then the Cornish-Fisher expansion around z = 1.959964 (error < 1e-3 there). */
export function t975(df: number): number {
  if (!(df >= 1)) throw new RangeError('degrees of freedom must be ≥ 1')
  const k = Math.floor(df)
  if (k <= 30) return T975[k - 1]!
  const z = 1.959964
  return z + (z ** 3 + z) / (4 * k) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * k * k)
}

export interface MeanInterval {
  mean: number
  lo: number
  hi: number
  /** Half-width as a fraction of the mean (0 when the mean is 0). */
  relHalfWidth: number
  n: number
}

/** Mean and its 95% interval; undefined with fewer than 2 samples (no spread to estimate). */
export function meanInterval(xs: readonly number[]): MeanInterval | undefined {
  const n = xs.length
  if (n < 2 || xs.some((x) => !Number.isFinite(x))) return undefined
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const s2 = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)
  const h = (t975(n - 1) * Math.sqrt(s2)) / Math.sqrt(n)
  return {mean, lo: mean - h, hi: mean + h, relHalfWidth: mean !== 0 ? h / Math.abs(mean) : 0, n}
}
