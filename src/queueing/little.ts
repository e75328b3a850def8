import {requireNonNegative, requirePositive} from './validate.js'

/**
 * Little's law L = λ·W (Little 1961; holds for any stable system, any distributions). It is a
 * consistency check, not a model: a measured point that breaks it by more than a few percent was
 * measured wrongly (saturated generator, uncounted errors, warm-up included) — queueing.md.
 */
export const LITTLE_TOLERANCE = 0.05

export interface LawCheck {
  law: string
  /** The value the law predicts from the other measurements. */
  predicted: number
  measured: number
  /** (predicted − measured)/measured. */
  relErr: number
  verdict: 'ok' | 'violated'
  tolerance: number
  note: string
}

function verdict(law: string, predicted: number, measured: number, tolerance: number, note: string): LawCheck {
  const relErr = measured === 0 ? (predicted === 0 ? 0 : Infinity) : (predicted - measured) / measured
  return {law, predicted, measured, relErr, verdict: Math.abs(relErr) <= tolerance ? 'ok' : 'violated', tolerance, note}
}

/** Open system: the mean number in system L (e.g. sampled in-flight requests) against X·W. */
export function littleCheck(input: {throughput: number; meanResponseTime: number; meanInSystem: number; tolerance?: number}): LawCheck {
  requireNonNegative('throughput', input.throughput)
  requireNonNegative('mean response time', input.meanResponseTime)
  requireNonNegative('mean number in system', input.meanInSystem)
  return verdict(
    "Little's law L = X·W",
    input.throughput * input.meanResponseTime,
    input.meanInSystem,
    input.tolerance ?? LITTLE_TOLERANCE,
    'L predicted from measured throughput × mean response time',
  )
}

/**
 * Closed loop with N clients and think time Z (Z = 0 for autocannon): Little's law over the whole loop
 * gives X = N/(R + Z) (the response-time law, Lazowska et al., Quantitative System Performance §3.2).
 */
export function closedLoopCheck(input: {concurrency: number; throughput: number; meanResponseTime: number; thinkTime?: number; tolerance?: number}): LawCheck {
  requirePositive('concurrency', input.concurrency)
  requireNonNegative('throughput', input.throughput)
  requirePositive('mean response time', input.meanResponseTime)
  const z = input.thinkTime ?? 0
  requireNonNegative('think time', z)
  return verdict(
    'response-time law X = N/(R+Z)',
    input.concurrency / (input.meanResponseTime + z),
    input.throughput,
    input.tolerance ?? LITTLE_TOLERANCE,
    'throughput predicted from concurrency and measured mean latency; a gap means requests were not all in flight (generator saturated, errors, pipelining)',
  )
}

/**
 * Utilisation law U = X·E[S]/c ≤ 1 (Lazowska §3.1): a throughput above c/E[S] means E[S] (measured at
 * low load) is wrong for this load — e.g. batching or caching made the per-request work smaller.
 */
export function utilisationCheck(input: {throughput: number; serviceTime: number; servers: number; tolerance?: number}): LawCheck {
  const cap = input.servers / input.serviceTime
  const u = input.throughput / cap
  const tol = input.tolerance ?? LITTLE_TOLERANCE
  return {
    law: 'utilisation law X ≤ c/E[S]',
    predicted: cap,
    measured: input.throughput,
    relErr: (cap - input.throughput) / (input.throughput || 1),
    verdict: u <= 1 + tol ? 'ok' : 'violated',
    tolerance: tol,
    note: `utilisation U = X·E[S]/c = ${u.toFixed(3)}`,
  }
}
