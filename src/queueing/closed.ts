import {requireNonNegative, requirePositive, requirePositiveInteger} from './validate.js'

/**
 * Closed loop (fixed concurrency N, what autocannon does). Units: seconds, per second.
 * D = total service demand per request, D_max = bottleneck demand (E[S]/c for one station of c
 * workers), Z = think time (0 for a load generator that resends at once).
 */

/**
 * Asymptotic bounds (Lazowska et al., Quantitative System Performance, 1984, §5.2):
 *   X(N) ≤ min(N/(D+Z), 1/D_max),  R(N) ≥ max(D, N·D_max − Z),  knee N* = (D+Z)/D_max.
 */
export function asymptoticBounds(input: {concurrency: number; demand: number; bottleneckDemand: number; thinkTime?: number}) {
  const {concurrency: n, demand: d, bottleneckDemand: dmax} = input
  const z = input.thinkTime ?? 0
  requirePositive('concurrency', n)
  requirePositive('demand D', d)
  requirePositive('bottleneck demand D_max', dmax)
  requireNonNegative('think time Z', z)
  return {
    throughputUpper: Math.min(n / (d + z), 1 / dmax),
    responseLower: Math.max(d, n * dmax - z),
    kneeConcurrency: (d + z) / dmax,
  }
}

export interface MvaPoint {
  concurrency: number
  /** X(n), per second. */
  throughput: number
  /** R(n) at the station, seconds. */
  responseTime: number
  /** Mean number at the station. */
  queueLength: number
  utilisation: number
}

/**
 * Exact MVA for one queueing station of c identical FCFS exponential servers (mean service S) plus a
 * delay (think time Z), n = 1..N. For c = 1 this is the single-server recursion of queueing.md:
 *   R(n) = S(1 + Q(n−1)),  X(n) = n/(R(n)+Z),  Q(n) = X(n)·R(n).
 * For c > 1 the station is load-dependent (rate min(j, c)/S with j present), and we use the
 * load-dependent MVA of Reiser & Lavenberg (1980), Lazowska §8.3 / Menascé, Performance by Design §14:
 *   R(n) = Σ_{j=1..n} j·S/min(j,c) · p(j−1 | n−1),
 *   X(n) = n/(R(n)+Z),
 *   p(j | n) = X(n)·S/min(j,c) · p(j−1 | n−1)  (j ≥ 1),  p(0 | n) = 1 − Σ_{j≥1} p(j | n).
 * With one load-dependent station the subtraction for p(0|n) is well conditioned.
 */
export function mva(input: {maxConcurrency: number; serviceTime: number; servers?: number; thinkTime?: number}): MvaPoint[] {
  const {maxConcurrency: N, serviceTime: s} = input
  const c = input.servers ?? 1
  const z = input.thinkTime ?? 0
  requirePositiveInteger('concurrency N', N)
  requirePositive('service time', s)
  requirePositiveInteger('servers', c)
  requireNonNegative('think time', z)
  const out: MvaPoint[] = []
  let p: number[] = [1] // p(j | 0): empty station
  for (let n = 1; n <= N; n++) {
    let r = 0
    for (let j = 1; j <= n; j++) r += ((j * s) / Math.min(j, c)) * (p[j - 1] ?? 0)
    const x = n / (r + z)
    const next: number[] = new Array<number>(n + 1).fill(0)
    let sum = 0
    for (let j = 1; j <= n; j++) {
      next[j] = ((x * s) / Math.min(j, c)) * (p[j - 1] ?? 0)
      sum += next[j] ?? 0
    }
    next[0] = Math.max(0, 1 - sum)
    p = next
    out.push({concurrency: n, throughput: x, responseTime: r, queueLength: x * r, utilisation: (x * s) / c})
  }
  return out
}
