import {erlangC} from './erlang.js'
import {requireOpenUnit, requirePositive, requirePositiveInteger, requireNonNegative, requireStable} from './validate.js'

/**
 * M/M/c (Poisson arrivals, exponential service, c servers, FCFS). Units: rates per second, times in
 * seconds. Formulas: Kleinrock Vol. 1 §3.5; Gross & Harris, Fundamentals of Queueing Theory §2.3.
 */
export interface MmcInput {
  /** λ, arrivals per second. */
  arrivalRate: number
  /** E[S] = 1/μ, seconds. */
  serviceTime: number
  /** c, parallel servers (workers). */
  servers: number
}

export interface MmcResult {
  arrivalRate: number
  serviceRate: number
  servers: number
  /** a = λ/μ, Erlangs. */
  offeredLoad: number
  /** ρ = a/c. */
  utilisation: number
  /** C(c, a): probability an arrival waits. */
  probWait: number
  /** γ = cμ − λ: rate of the conditional waiting-time exponential. */
  gamma: number
  /** Mean wait in queue Wq = C/(cμ − λ), s. */
  wq: number
  /** Mean response time W = Wq + 1/μ, s. */
  w: number
  /** Mean queue length Lq = C·ρ/(1−ρ) (= λ·Wq by Little). */
  lq: number
  /** Mean number in system L = λ·W. */
  l: number
}

export function mmc(input: MmcInput): MmcResult {
  const {arrivalRate: lambda, serviceTime, servers: c} = input
  requireNonNegative('arrival rate', lambda)
  requirePositive('service time', serviceTime)
  requirePositiveInteger('servers', c)
  requireStable(lambda, serviceTime, c)
  const mu = 1 / serviceTime
  const a = lambda / mu
  const rho = a / c
  const C = erlangC(c, a)
  const gamma = c * mu - lambda
  const wq = C / gamma
  const w = wq + serviceTime
  return {
    arrivalRate: lambda,
    serviceRate: mu,
    servers: c,
    offeredLoad: a,
    utilisation: rho,
    probWait: C,
    gamma,
    wq,
    w,
    lq: (C * rho) / (1 - rho),
    l: lambda * w,
  }
}

/** P(Wq > t) = C·e^{−γt}: the wait is 0 with probability 1−C, else exponential with rate γ. */
export function mmcWaitTail(r: MmcResult, t: number): number {
  if (t < 0) return 1
  return r.probWait * Math.exp(-r.gamma * t)
}

/** p-quantile of the wait: max(0, ln(C/(1−p))/γ). */
export function mmcWaitQuantile(r: MmcResult, p: number): number {
  requireOpenUnit('percentile', p)
  return Math.max(0, Math.log(r.probWait / (1 - p)) / r.gamma)
}

/**
 * P(T > t) for the response time T = Wq + S (exact for FCFS M/M/c; Gross & Harris §2.3):
 *   (1−C)e^{−μt} + C·(γe^{−μt} − μe^{−γt})/(γ − μ),   and C(1 + μt)e^{−μt} for the second term when γ = μ.
 * Near γ = μ the difference quotient cancels catastrophically, so the limit form is used there.
 */
export function mmcResponseTail(r: MmcResult, t: number): number {
  if (t <= 0) return 1
  const mu = r.serviceRate
  const g = r.gamma
  const C = r.probWait
  const emu = Math.exp(-mu * t)
  const second = Math.abs(g - mu) <= 1e-7 * mu ? (1 + mu * t) * emu : (g * emu - mu * Math.exp(-g * t)) / (g - mu)
  return (1 - C) * emu + C * second
}

/** p-quantile of the response time, by bisection on the monotone tail (no closed form for c > 1). */
export function mmcResponseQuantile(r: MmcResult, p: number): number {
  requireOpenUnit('percentile', p)
  const target = 1 - p
  let lo = 0
  let hi = Math.max(r.w, 1 / r.gamma, 1 / r.serviceRate)
  while (mmcResponseTail(r, hi) > target) hi *= 2
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2
    if (mmcResponseTail(r, mid) > target) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/**
 * M/M/1 closed forms (c = 1, C = ρ): W = 1/(μ−λ), Wq = ρ/(μ−λ), T ~ Exp(μ−λ), so the p-quantile of
 * the response time is −ln(1−p)/(μ−λ) (Kleinrock Vol. 1 eq. 3.27 ff.).
 */
export function mm1(arrivalRate: number, serviceTime: number) {
  requireNonNegative('arrival rate', arrivalRate)
  requirePositive('service time', serviceTime)
  requireStable(arrivalRate, serviceTime, 1)
  const mu = 1 / serviceTime
  const rho = arrivalRate / mu
  const w = 1 / (mu - arrivalRate)
  return {
    utilisation: rho,
    wq: rho / (mu - arrivalRate),
    w,
    l: rho / (1 - rho),
    responseQuantile: (p: number): number => {
      requireOpenUnit('percentile', p)
      return -Math.log(1 - p) * w
    },
  }
}
