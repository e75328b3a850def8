import {usageError} from '../errors.js'
import {invert, solve} from './linalg.js'

/**
 * Universal Scalability Law (Gunther, Guerrilla Capacity Planning, 2007, ch. 4–6):
 *   X(N) = λN / (1 + σ(N−1) + κN(N−1)),   R(N) = N/X(N)  (closed loop, no think time).
 * σ = contention (serialisation), κ = coherency (crosstalk); κ = 0 is Amdahl's law.
 * Throughput in requests per second, response time in seconds.
 */
export interface UslParams {
  sigma: number
  kappa: number
  /** Throughput of one client with no contention, per second. */
  lambda: number
}

export interface UslPoint {
  concurrency: number
  throughput: number
}

export const USL_MIN_POINTS = 6

export function uslThroughput(p: UslParams, n: number): number {
  return (p.lambda * n) / (1 + p.sigma * (n - 1) + p.kappa * n * (n - 1))
}

export function uslResponseTime(p: UslParams, n: number): number {
  return n / uslThroughput(p, n)
}

/**
 * Peak: dX/dN = 0 at N = √((1−σ)/κ); queueing.md reports N_max = floor of it and X_max = X(N_max).
 * κ = 0 has no peak: X rises to the asymptote λ/σ (Amdahl), or without bound when σ = 0 too.
 */
export function uslPeak(p: UslParams): {nPeak: number | null; nMax: number | null; xMax: number | null; kind: 'peak' | 'asymptote' | 'unbounded'} {
  if (p.kappa > 0) {
    const nPeak = p.sigma < 1 ? Math.sqrt((1 - p.sigma) / p.kappa) : 1
    const nMax = Math.max(1, Math.floor(nPeak))
    return {nPeak, nMax, xMax: uslThroughput(p, nMax), kind: 'peak'}
  }
  if (p.sigma > 0) return {nPeak: null, nMax: null, xMax: p.lambda / p.sigma, kind: 'asymptote'}
  return {nPeak: null, nMax: null, xMax: null, kind: 'unbounded'}
}

export interface UslFit extends UslParams {
  nPeak: number | null
  nMax: number | null
  xMax: number | null
  peakKind: 'peak' | 'asymptote' | 'unbounded'
  /** σ > κ: contention, not crosstalk, limits scaling. */
  contentionLimited: boolean
  /** Standard errors from s²(JᵀJ)⁻¹ at the optimum; null where a parameter sits on its bound. */
  stdErr: {sigma: number | null; kappa: number | null; lambda: number | null}
  rmse: number
  /** 1 − SSR/SST: descriptive only — not a valid goodness-of-fit statistic for a nonlinear model. */
  pseudoR2: number
  points: Array<{
    concurrency: number
    measured: number
    fitted: number
    residual: number
    relErr: number
    measuredResponseTimeS: number
    fittedResponseTimeS: number
  }>
  iterations: number
  converged: boolean
}

function jacobianRow(p: UslParams, n: number): [number, number, number] {
  const den = 1 + p.sigma * (n - 1) + p.kappa * n * (n - 1)
  const den2 = den * den
  return [(-p.lambda * n * (n - 1)) / den2, (-p.lambda * n * n * (n - 1)) / den2, n / den]
}

function ssr(p: UslParams, pts: UslPoint[]): number {
  let s = 0
  for (const q of pts) s += (q.throughput - uslThroughput(p, q.concurrency)) ** 2
  return s
}

/**
 * Levenberg–Marquardt (Marquardt 1963, diagonal scaling) on the throughput residuals with the bounds
 * σ, κ ≥ 0 enforced by projection, from one start. Returns the best parameters and the iteration count.
 */
function levenbergMarquardt(start: UslParams, pts: UslPoint[]): {p: UslParams; iterations: number; converged: boolean} {
  let p = {...start}
  let cost = ssr(p, pts)
  let damping = 1e-3
  for (let it = 1; it <= 1000; it++) {
    const jtj = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]
    const jtr = [0, 0, 0]
    for (const q of pts) {
      const j = jacobianRow(p, q.concurrency)
      const r = q.throughput - uslThroughput(p, q.concurrency)
      for (let a = 0; a < 3; a++) {
        jtr[a]! += j[a]! * r
        for (let b = 0; b < 3; b++) jtj[a]![b]! += j[a]! * j[b]!
      }
    }
    let improved = false
    while (damping < 1e16) {
      const m = jtj.map((row, a) => row.map((v, b) => (a === b ? v * (1 + damping) + 1e-300 : v)))
      const d = solve(m, jtr)
      if (!d) {
        damping *= 10
        continue
      }
      const cand = {sigma: Math.max(0, p.sigma + d[0]!), kappa: Math.max(0, p.kappa + d[1]!), lambda: Math.max(1e-12, p.lambda + d[2]!)}
      const c = ssr(cand, pts)
      if (Number.isFinite(c) && c <= cost) {
        const rel = (cost - c) / Math.max(cost, 1e-300)
        // absolute change for σ (order 0.01–1), relative for κ (order 1e-4) and λ (order 1e3)
        const step = Math.max(
          Math.abs(cand.sigma - p.sigma),
          Math.abs(cand.kappa - p.kappa) / Math.max(p.kappa, 1e-12),
          Math.abs(cand.lambda - p.lambda) / p.lambda,
        )
        p = cand
        cost = c
        damping = Math.max(damping / 3, 1e-12)
        improved = true
        if (rel < 1e-14 && step < 1e-10) return {p, iterations: it, converged: true}
        break
      }
      damping *= 2
    }
    if (!improved) return {p, iterations: it, converged: true}
  }
  return {p, iterations: 1000, converged: false}
}

/**
 * Three-parameter nonlinear least-squares fit of the USL to (N, X) points, as queueing.md prescribes
 * (not the old linear transform, which pins λ to X(1)). Starts at σ = 0.1, κ = 0.01, λ = max(X/N) and
 * from two other starts; keeps the lowest residual sum of squares. Needs ≥ 6 points.
 */
export function fitUsl(points: UslPoint[]): UslFit {
  if (points.length < USL_MIN_POINTS) {
    throw usageError(
      `the USL fit needs at least ${USL_MIN_POINTS} (concurrency, throughput) points to estimate σ, κ and λ; got ${points.length} — measure ${USL_MIN_POINTS - points.length} more concurrency level(s), ideally spanning the peak`,
    )
  }
  for (const q of points) {
    if (!Number.isFinite(q.concurrency) || q.concurrency <= 0) throw usageError(`concurrency must be > 0 (got ${q.concurrency})`)
    if (!Number.isFinite(q.throughput) || q.throughput < 0) throw usageError(`throughput must be ≥ 0 (got ${q.throughput} at concurrency ${q.concurrency})`)
  }
  const distinct = new Set(points.map((q) => q.concurrency)).size
  if (distinct < 3) throw usageError(`the USL fit needs at least 3 distinct concurrency levels; got ${distinct}`)
  const lam0 = Math.max(...points.map((q) => q.throughput / q.concurrency))
  const starts: UslParams[] = [
    {sigma: 0.1, kappa: 0.01, lambda: lam0},
    {sigma: 0.01, kappa: 1e-4, lambda: lam0},
    {sigma: 0, kappa: 0, lambda: lam0},
  ]
  let best: ReturnType<typeof levenbergMarquardt> | null = null
  let bestCost = Infinity
  for (const s of starts) {
    const r = levenbergMarquardt(s, points)
    const c = ssr(r.p, points)
    if (c < bestCost) {
      bestCost = c
      best = r
    }
  }
  const p = best!.p
  const n = points.length
  const mean = points.reduce((s, q) => s + q.throughput, 0) / n
  const sst = points.reduce((s, q) => s + (q.throughput - mean) ** 2, 0)
  return {
    ...p,
    ...peakFields(p),
    contentionLimited: p.sigma > p.kappa,
    stdErr: standardErrors(p, points, bestCost),
    rmse: Math.sqrt(bestCost / n),
    pseudoR2: sst > 0 ? 1 - bestCost / sst : 1,
    points: points.map((q) => {
      const fitted = uslThroughput(p, q.concurrency)
      return {
        concurrency: q.concurrency,
        measured: q.throughput,
        fitted,
        residual: q.throughput - fitted,
        relErr: q.throughput > 0 ? (fitted - q.throughput) / q.throughput : NaN,
        measuredResponseTimeS: q.throughput > 0 ? q.concurrency / q.throughput : Infinity,
        fittedResponseTimeS: q.concurrency / fitted,
      }
    }),
    iterations: best!.iterations,
    converged: best!.converged,
  }
}

function peakFields(p: UslParams) {
  const pk = uslPeak(p)
  return {nPeak: pk.nPeak, nMax: pk.nMax, xMax: pk.xMax, peakKind: pk.kind}
}

/** Asymptotic standard errors √diag(s²(JᵀJ)⁻¹), s² = SSR/(n−3), over the parameters off their bounds. */
function standardErrors(p: UslParams, pts: UslPoint[], cost: number): UslFit['stdErr'] {
  const free = [p.sigma > 0, p.kappa > 0, true]
  const idx = [0, 1, 2].filter((i) => free[i])
  const dof = pts.length - idx.length
  const out: UslFit['stdErr'] = {sigma: null, kappa: null, lambda: null}
  if (dof <= 0) return out
  const jtj = idx.map(() => idx.map(() => 0))
  for (const q of pts) {
    const j = jacobianRow(p, q.concurrency)
    idx.forEach((a, ia) => idx.forEach((b, ib) => (jtj[ia]![ib]! += j[a]! * j[b]!)))
  }
  const inv = invert(jtj)
  if (!inv) return out
  const s2 = cost / dof
  const names = ['sigma', 'kappa', 'lambda'] as const
  idx.forEach((a, ia) => {
    const v = inv[ia]![ia]! * s2
    out[names[a]!] = v >= 0 ? Math.sqrt(v) : null
  })
  return out
}
