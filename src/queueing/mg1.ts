import {requireNonNegative, requirePositive, requireStable} from './validate.js'

/**
 * M/G/1, Pollaczek-Khinchine mean value formula (Kleinrock Vol. 1 §5.6, eq. 5.105; Cooper 1981 p. 189):
 *   Wq = λE[S²] / (2(1−ρ)) = ρ(1 + Cs²)E[S] / (2(1−ρ)),   Cs² = Var(S)/E[S]².
 * Exact for Poisson arrivals and any service distribution; M/D/1 (Cs² = 0) waits half as long as M/M/1.
 * Units: λ per second, times in seconds.
 */
export interface Mg1Input {
  arrivalRate: number
  serviceTime: number
  /** Cs², squared coefficient of variation of the service time (0 deterministic, 1 exponential). */
  serviceScv: number
}

export function mg1(input: Mg1Input) {
  const {arrivalRate: lambda, serviceTime: s, serviceScv: cs2} = input
  requireNonNegative('arrival rate', lambda)
  requirePositive('service time', s)
  requireNonNegative('service SCV Cs²', cs2)
  requireStable(lambda, s, 1)
  const rho = lambda * s
  const wq = (rho * (1 + cs2) * s) / (2 * (1 - rho))
  const w = wq + s
  return {utilisation: rho, wq, w, lq: lambda * wq, l: lambda * w}
}
