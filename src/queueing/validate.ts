import {usageError} from '../errors.js'

/**
 * Input checks shared by the queueing models. They throw E_USAGE (exit 2) with a message that says
 * what to change, so a command can pass flags straight through to the pure functions.
 */
export function requireFinite(name: string, v: number): void {
  if (!Number.isFinite(v)) throw usageError(`${name} must be a finite number (got ${v})`)
}

export function requirePositive(name: string, v: number): void {
  requireFinite(name, v)
  if (v <= 0) throw usageError(`${name} must be > 0 (got ${v})`)
}

export function requireNonNegative(name: string, v: number): void {
  requireFinite(name, v)
  if (v < 0) throw usageError(`${name} must be ≥ 0 (got ${v})`)
}

export function requirePositiveInteger(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw usageError(`${name} must be a whole number ≥ 1 (got ${v})`)
}

/** A probability strictly inside (0, 1), e.g. a percentile given as 0.99. */
export function requireOpenUnit(name: string, v: number): void {
  requireFinite(name, v)
  if (v <= 0 || v >= 1) throw usageError(`${name} must be strictly between 0 and 1 (got ${v})`)
}

/** A fraction in [0, 1], e.g. a hit ratio. */
export function requireUnit(name: string, v: number): void {
  requireFinite(name, v)
  if (v < 0 || v > 1) throw usageError(`${name} must be between 0 and 1 (got ${v})`)
}

/**
 * Stability: ρ = λ·E[S]/c < 1, else no steady state exists and every mean is infinite.
 * The message names the capacity so the user knows how far over it they are.
 */
export function requireStable(arrivalRate: number, serviceTime: number, servers: number): void {
  const rho = (arrivalRate * serviceTime) / servers
  if (rho >= 1) {
    const cap = servers / serviceTime
    throw usageError(
      `utilisation ρ = λ·S/c = ${fmt(rho)} ≥ 1: the queue is unstable (arrival rate ${fmt(arrivalRate)}/s ≥ capacity c/S = ${fmt(cap)}/s); lower the arrival rate, shorten the service time or add servers`,
    )
  }
}

/** Relative error (predicted − measured)/measured; null when it is undefined. */
export function relativeError(predicted: number | null, measured: number | null | undefined): number | null {
  if (predicted === null || measured === null || measured === undefined) return null
  if (!Number.isFinite(predicted) || !Number.isFinite(measured) || measured === 0) return null
  return (predicted - measured) / measured
}

export function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v)
  return Number(v.toPrecision(digits)).toString()
}
