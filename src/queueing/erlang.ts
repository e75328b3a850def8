import {requireNonNegative, requirePositiveInteger} from './validate.js'
import {usageError} from '../errors.js'

/**
 * Erlang B (blocking probability of M/M/c/c) by the recursion
 *   B₀ = 1,  B_k = a·B_{k−1} / (k + a·B_{k−1}),  k = 1..c
 * which needs no factorials and stays stable for large c (octave-forge queueing `erlangb.m`;
 * Kleinrock, Queueing Systems Vol. 1, §3.7). a = λ/μ is the offered load in Erlangs.
 */
export function erlangB(c: number, a: number): number {
  requirePositiveInteger('servers c', c)
  requireNonNegative('offered load a', a)
  let b = 1
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b)
  return b
}

/**
 * Erlang C: probability that an arrival to M/M/c has to wait, from Erlang B:
 *   C = B_c / (1 − ρ(1 − B_c)),  ρ = a/c < 1   (octave-forge `erlangc.m`).
 */
export function erlangC(c: number, a: number): number {
  const b = erlangB(c, a)
  const rho = a / c
  if (rho >= 1) throw usageError(`Erlang C needs ρ = a/c < 1 (got a = ${a}, c = ${c}): with a ≥ c every arrival waits and the queue grows without bound`)
  return b / (1 - rho * (1 - b))
}
