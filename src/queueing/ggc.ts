import {erlangC} from './erlang.js'
import {requireNonNegative, requireOpenUnit, requirePositive, requirePositiveInteger, requireStable} from './validate.js'

/**
 * Approximations for general arrivals and service (units: per second, seconds).
 * Ca² = squared CV of inter-arrival times (1 Poisson, 0 constant rate); Cs² likewise for service.
 */
export interface GgcInput {
  arrivalRate: number
  serviceTime: number
  servers: number
  arrivalScv: number
  serviceScv: number
}

/**
 * Kingman's heavy-traffic approximation for G/G/1 (Kingman 1961):
 *   Wq ≈ (ρ/(1−ρ)) · ((Ca² + Cs²)/2) · E[S].   Exact for M/M/1 and (with Ca² = 1) M/G/1.
 */
export function kingman(input: Omit<GgcInput, 'servers'>) {
  const {arrivalRate: lambda, serviceTime: s, arrivalScv: ca2, serviceScv: cs2} = input
  validate(lambda, s, 1, ca2, cs2)
  const rho = lambda * s
  const wq = (rho / (1 - rho)) * ((ca2 + cs2) / 2) * s
  return {utilisation: rho, wq, w: wq + s}
}

/**
 * Allen-Cunneen approximation for G/G/c (Allen, Probability, Statistics and Queueing Theory, 1990):
 *   Wq ≈ (C(c, a)/(cμ − λ)) · (Ca² + Cs²)/2,   i.e. the M/M/c wait scaled by the variability factor.
 * Exact for M/M/c; with Ca² = 1, Cs² = 0 it is the simplest M/D/c approximation (see mdc.ts).
 */
export function allenCunneen(input: GgcInput) {
  const {arrivalRate: lambda, serviceTime: s, servers: c, arrivalScv: ca2, serviceScv: cs2} = input
  validate(lambda, s, c, ca2, cs2)
  const mu = 1 / s
  const a = lambda * s
  const C = erlangC(c, a)
  const wqMmc = C / (c * mu - lambda)
  const wq = wqMmc * ((ca2 + cs2) / 2)
  return {utilisation: a / c, probWait: C, wqMmc, wq, w: wq + s}
}

/**
 * Response-time p-quantile for an approximate G/G/c result. NOT a published formula — a documented
 * approximation: keep the M/M/c shape of the wait (0 with probability 1−C, else exponential) but with
 * the approximate mean, so P(Wq > t) ≈ C·exp(−t·C/Wq), and treat service as constant E[S]:
 *   T_p ≈ E[S] + max(0, (Wq/C)·ln(C/(1−p))).
 * Reasonable when Cs² ≪ 1 (inference on fixed shapes); it ignores service-time spread otherwise.
 */
export function approxResponseQuantile(r: {probWait: number; wq: number}, serviceTime: number, p: number): number {
  requireOpenUnit('percentile', p)
  if (r.wq <= 0 || r.probWait <= 0) return serviceTime
  const meanCondWait = r.wq / r.probWait
  return serviceTime + Math.max(0, meanCondWait * Math.log(r.probWait / (1 - p)))
}

function validate(lambda: number, s: number, c: number, ca2: number, cs2: number): void {
  requireNonNegative('arrival rate', lambda)
  requirePositive('service time', s)
  requirePositiveInteger('servers', c)
  requireNonNegative('arrival SCV Ca²', ca2)
  requireNonNegative('service SCV Cs²', cs2)
  requireStable(lambda, s, c)
}
