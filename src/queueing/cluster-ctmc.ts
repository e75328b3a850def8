import {usageError} from '../errors.js'

/**
 * Exact (up to truncation) stationary solution of N identical exponential FCFS queues fed by one
 * Poisson stream and a state-dependent dispatcher: least-connections / join-the-shortest-queue, power
 * of d choices, or a random split. The dispatchers are symmetric, so the chain lumps onto sorted
 * queue-length vectors (a multiset), which keeps N = 4 at a few tens of thousands of states.
 * Arrivals go to the queue at sorted position i with probability positionProbs[i]; a queue of length
 * K (the truncation) refuses arrivals, and K grows until the mass at K is below 1e-8.
 * Solved by Gauss-Seidel on πQ = 0. Units: per second, seconds.
 */
export interface CtmcInput {
  replicas: number
  arrivalRate: number
  serviceTime: number
  /** P(arrival joins sorted position i), i = 0 shortest … N−1 longest; sums to 1. */
  positionProbs: readonly number[]
  /** Starting per-queue cap; doubled while the boundary holds more than 1e-9 of the mass. */
  cap?: number
  /** false keeps `cap` fixed: a finite-buffer system (tests use cap 1 to get the Erlang loss system). */
  growCap?: boolean
}

export interface CtmcResult {
  /** Mean number in system, all queues. */
  l: number
  /** Mean response time by Little's law on the accepted stream, s. */
  w: number
  /** Distribution of the queue length an arrival joins (PASTA), index n = jobs already there. */
  joinDistribution: number[]
  states: number
  cap: number
  /** Probability mass with some queue at the cap (truncation error indicator). */
  boundaryMass: number
  /** Fraction of arrivals not refused at the cap (1 − blocking). */
  acceptedFraction: number
}

const MAX_STATES = 400_000

/** null when even the starting cap needs more than MAX_STATES states (the caller falls back to a named approximation). */
export function solveDispatchCtmc(input: CtmcInput): CtmcResult | null {
  const {replicas: n, arrivalRate: lambda, serviceTime} = input
  let cap = input.cap ?? 12
  if (countStates(n, cap) > MAX_STATES) return null
  for (;;) {
    const r = solveAt(n, lambda, 1 / serviceTime, input.positionProbs, cap)
    if (input.growCap === false || r.boundaryMass <= 1e-8 || countStates(n, cap * 2) > MAX_STATES) return r
    cap = Math.ceil(cap * 1.5)
  }
}

/** Sorted vectors of length n over 0..cap: C(cap + n, n). */
function countStates(n: number, cap: number): number {
  let c = 1
  for (let i = 1; i <= n; i++) c = (c * (cap + i)) / i
  return Math.round(c)
}

function solveAt(n: number, lambda: number, mu: number, probs: readonly number[], cap: number): CtmcResult {
  if (countStates(n, cap) > MAX_STATES)
    throw usageError(`the dispatch model for ${n} replicas needs more than ${MAX_STATES} states; use at most 8 replicas or lower the load`)
  const base = cap + 1
  const states: number[][] = []
  const index = new Map<number, number>()
  const code = (x: readonly number[]) => x.reduce((acc, v) => acc * base + v, 0)
  const walk = (prefix: number[], min: number) => {
    if (prefix.length === n) {
      index.set(code(prefix), states.length)
      states.push(prefix.slice())
      return
    }
    for (let v = min; v <= cap; v++) {
      prefix.push(v)
      walk(prefix, v)
      prefix.pop()
    }
  }
  walk([], 0)
  const m = states.length
  // Incoming transitions, as flat lists per target, and total outflow per state.
  const inFrom: number[][] = Array.from({length: m}, () => [])
  const inRate: number[][] = Array.from({length: m}, () => [])
  const out = new Float64Array(m)
  const add = (from: number, to: number[], rate: number) => {
    const j = index.get(code(to))!
    if (j === from) return
    inFrom[j]!.push(from)
    inRate[j]!.push(rate)
    out[from]! += rate
  }
  for (let s = 0; s < m; s++) {
    const x = states[s]!
    for (let i = 0; i < n; i++) {
      const p = probs[i] ?? 0
      if (p <= 0 || x[i]! >= cap) continue
      // Increment the last queue tied with position i, which keeps the vector sorted.
      let j = i
      while (j + 1 < n && x[j + 1] === x[i]) j++
      const y = x.slice()
      y[j]! += 1
      add(s, y, lambda * p)
    }
    for (let i = 0; i < n; ) {
      const v = x[i]!
      let k = i
      while (k < n && x[k] === v) k++
      if (v > 0) {
        // Any of the (k − i) tied queues finishing gives the same sorted state: decrement the first.
        const y = x.slice()
        y[i]! -= 1
        add(s, y, mu * (k - i))
      }
      i = k
    }
  }
  const pi = new Float64Array(m).fill(1 / m)
  for (let sweep = 0; sweep < 20_000; sweep++) {
    let change = 0
    for (let j = 0; j < m; j++) {
      const from = inFrom[j]!
      const rate = inRate[j]!
      let acc = 0
      for (let k = 0; k < from.length; k++) acc += pi[from[k]!]! * rate[k]!
      const next = out[j]! > 0 ? acc / out[j]! : pi[j]!
      change = Math.max(change, Math.abs(next - pi[j]!))
      pi[j] = next
    }
    let total = 0
    for (let j = 0; j < m; j++) total += pi[j]!
    for (let j = 0; j < m; j++) pi[j]! /= total
    if (change / total < 1e-12) break
  }
  let l = 0
  let boundary = 0
  let accepted = 0
  const join = new Array<number>(cap + 1).fill(0)
  for (let s = 0; s < m; s++) {
    const x = states[s]!
    const p = pi[s]!
    l += p * x.reduce((a, v) => a + v, 0)
    if (x[n - 1] === cap) boundary += p
    for (let i = 0; i < n; i++) {
      const q = probs[i] ?? 0
      if (q <= 0 || x[i]! >= cap) continue
      join[x[i]!]! += p * q
      accepted += p * q
    }
  }
  for (let k = 0; k <= cap; k++) join[k]! /= accepted
  return {l, w: l / (lambda * accepted), joinDistribution: join, states: m, cap, boundaryMass: boundary, acceptedFraction: accepted}
}

/** P(T > t) when an arrival finds n jobs (FCFS, exponential service): Erlang(n+1, μ) tail, mixed over n. */
export function joinResponseTail(join: readonly number[], mu: number, t: number): number {
  if (t <= 0) return 1
  const x = mu * t
  let term = Math.exp(-x)
  let cdfTail = term
  let acc = 0
  let remaining = 1
  for (let k = 0; k < join.length; k++) {
    acc += (join[k] ?? 0) * cdfTail
    remaining -= join[k] ?? 0
    term *= x / (k + 1)
    cdfTail += term
  }
  return acc + Math.max(0, remaining) * Math.min(1, cdfTail)
}

/** Response-time quantile by bisection on a monotone tail. */
export function quantileFromTail(tail: (t: number) => number, p: number, scale: number): number {
  const target = 1 - p
  let lo = 0
  let hi = scale
  while (tail(hi) > target) hi *= 2
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2
    if (tail(mid) > target) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
