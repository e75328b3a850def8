import {joinResponseTail, quantileFromTail, solveDispatchCtmc} from './cluster-ctmc.js'
import {allenCunneen, approxResponseQuantile, kingman} from './ggc.js'
import {mdc} from './mdc.js'
import {mg1} from './mg1.js'
import {mm1, mmc, mmcResponseQuantile} from './mmc.js'
import {requireNonNegative, requireOpenUnit, requirePositive, requirePositiveInteger, requireStable} from './validate.js'
import {usageError} from '../errors.js'

/**
 * N identical replicas behind a dispatcher (docs/QUEUEING.md, "Replicas and load balancing").
 * λ is the TOTAL arrival rate (Poisson), S the mean service time of one replica (one request at a time),
 * ρ = λS/N. Exponential service (Cs² = 1) gets exact models; other Cs² get named approximations.
 */
export const LB_POLICIES = ['round-robin', 'least-conn', 'random-two', 'random', 'central'] as const
export type LbPolicy = (typeof LB_POLICIES)[number]

export interface ClusterInput {
  replicas: number
  arrivalRate: number
  serviceTime: number
  /** Cs² of the service time: 1 exponential (default), 0 constant (a fixed sleep). */
  serviceScv?: number
}

export interface ClusterPrediction {
  policy: LbPolicy
  /** Which model produced the numbers, named so a report can cite it. */
  method: string
  /** true when the numbers are exact for the stated assumptions (up to numerical truncation). */
  exact: boolean
  utilisation: number
  /** P(an arrival waits). */
  probWait: number
  wq: number
  w: number
  /** p-quantile of the response time, s (approximate unless `exact`). */
  responseQuantile: (p: number) => number
  note: string
}

export function parseLbPolicy(s: string): LbPolicy {
  const v = s.trim().toLowerCase()
  const alias: Record<string, LbPolicy> = {
    rr: 'round-robin',
    roundrobin: 'round-robin',
    leastconn: 'least-conn',
    least_conn: 'least-conn',
    jsq: 'least-conn',
    p2c: 'random-two',
    'random(2)': 'random-two',
    mmc: 'central',
  }
  const p = (LB_POLICIES as readonly string[]).includes(v) ? (v as LbPolicy) : alias[v]
  if (!p) throw usageError(`unknown load-balancing policy "${s}": use one of ${LB_POLICIES.join(', ')}`)
  return p
}

export function predictCluster(policy: LbPolicy, input: ClusterInput): ClusterPrediction {
  const {replicas: n, arrivalRate: lambda, serviceTime: s} = input
  const cs2 = input.serviceScv ?? 1
  requirePositiveInteger('replicas', n)
  requireNonNegative('arrival rate', lambda)
  requirePositive('service time', s)
  requireNonNegative('service SCV Cs²', cs2)
  requireStable(lambda, s, n)
  const rho = (lambda * s) / n
  const expo = Math.abs(cs2 - 1) < 1e-12
  switch (policy) {
    case 'random':
      return randomSplit(n, lambda, s, cs2, expo)
    case 'round-robin':
      return roundRobin(n, lambda, s, cs2, expo)
    case 'central':
      return central(n, lambda, s, cs2, expo)
    case 'least-conn':
    case 'random-two':
      return dispatch(policy, n, lambda, s, cs2, expo, rho)
  }
}

function randomSplit(n: number, lambda: number, s: number, cs2: number, expo: boolean): ClusterPrediction {
  const per = lambda / n
  if (expo) {
    const r = mm1(per, s)
    return {
      policy: 'random',
      method: `N × M/M/1 at λ/N`,
      exact: true,
      utilisation: r.utilisation,
      probWait: r.utilisation,
      wq: r.wq,
      w: r.w,
      responseQuantile: r.responseQuantile,
      note: 'a Bernoulli split of Poisson is Poisson: each replica is M/M/1 at λ/N',
    }
  }
  const r = mg1({arrivalRate: per, serviceTime: s, serviceScv: cs2})
  return {
    policy: 'random',
    method: cs2 === 0 ? 'N × M/D/1 at λ/N (Pollaczek-Khinchine)' : 'N × M/G/1 at λ/N (Pollaczek-Khinchine)',
    exact: false,
    utilisation: r.utilisation,
    probWait: r.utilisation,
    wq: r.wq,
    w: r.w,
    responseQuantile: (p) => approxResponseQuantile({probWait: r.utilisation, wq: r.wq}, s, p),
    note: 'mean exact (P-K); percentiles approximate (exponential conditional wait + constant service)',
  }
}

/**
 * Round robin hands every N-th Poisson arrival to a replica, so each sees Erlang-N inter-arrival times
 * (mean N/λ, Ca² = 1/N). With exponential service that is E_N/M/1, a GI/M/1 queue: σ solves
 * σ = A*(μ(1−σ)) = (λ/(λ + μ(1−σ)))^N, P(wait) = σ and the response time is Exp(μ(1−σ)) exactly
 * (Kleinrock Vol. 1 §6.4; Gross & Harris §7.2). Otherwise Kingman's G/G/1 with Ca² = 1/N.
 */
export function erlangArrivalSigma(n: number, lambda: number, mu: number): number {
  let sigma = 0
  for (let i = 0; i < 1_000_000; i++) {
    const next = (lambda / (lambda + mu * (1 - sigma))) ** n
    if (Math.abs(next - sigma) < 1e-15) return next
    sigma = next
  }
  return sigma
}

function roundRobin(n: number, lambda: number, s: number, cs2: number, expo: boolean): ClusterPrediction {
  const rho = (lambda * s) / n
  if (expo) {
    const mu = 1 / s
    const sigma = erlangArrivalSigma(n, lambda, mu)
    const rate = mu * (1 - sigma)
    return {
      policy: 'round-robin',
      method: `E_${n}/M/1 per replica (GI/M/1)`,
      exact: true,
      utilisation: rho,
      probWait: sigma,
      wq: sigma / rate,
      w: 1 / rate,
      responseQuantile: (p) => {
        requireOpenUnit('percentile', p)
        return -Math.log(1 - p) / rate
      },
      note: 'round robin over Poisson arrivals: Erlang-N inter-arrivals at each replica; response time Exp(μ(1−σ))',
    }
  }
  const k = kingman({arrivalRate: lambda / n, serviceTime: s, arrivalScv: 1 / n, serviceScv: cs2})
  return {
    policy: 'round-robin',
    method: `Kingman G/G/1 per replica, Ca² = 1/${n}, Cs² = ${cs2}`,
    exact: false,
    utilisation: rho,
    probWait: rho,
    wq: k.wq,
    w: k.w,
    responseQuantile: (p) => approxResponseQuantile({probWait: rho, wq: k.wq}, s, p),
    note: 'Kingman heavy-traffic approximation; percentiles approximate',
  }
}

function central(n: number, lambda: number, s: number, cs2: number, expo: boolean): ClusterPrediction {
  if (expo) {
    const r = mmc({arrivalRate: lambda, serviceTime: s, servers: n})
    return {
      policy: 'central',
      method: `M/M/${n} (one central queue)`,
      exact: true,
      utilisation: r.utilisation,
      probWait: r.probWait,
      wq: r.wq,
      w: r.w,
      responseQuantile: (p) => mmcResponseQuantile(r, p),
      note: 'the lower bound for any dispatcher that does not know service times',
    }
  }
  if (cs2 === 0) {
    const d = mdc({arrivalRate: lambda, serviceTime: s, servers: n})
    return {
      policy: 'central',
      method: `M/D/${n} (Cosmetatos)`,
      exact: n === 1,
      utilisation: d.utilisation,
      probWait: d.probWaitMmc,
      wq: d.wq,
      w: d.w,
      responseQuantile: d.responseQuantile,
      note: 'central-queue lower bound; percentiles approximate',
    }
  }
  const a = allenCunneen({arrivalRate: lambda, serviceTime: s, servers: n, arrivalScv: 1, serviceScv: cs2})
  return {
    policy: 'central',
    method: `Allen-Cunneen M/G/${n}`,
    exact: false,
    utilisation: a.utilisation,
    probWait: a.probWait,
    wq: a.wq,
    w: a.w,
    responseQuantile: (p) => approxResponseQuantile(a, s, p),
    note: 'central-queue lower bound; percentiles approximate',
  }
}

/** P(arrival goes to sorted position i) for JSQ (all to the shortest) and power of d distinct choices. */
export function positionProbabilities(policy: 'least-conn' | 'random-two' | 'random', n: number, d = 2): number[] {
  if (policy === 'least-conn') return Array.from({length: n}, (_, i) => (i === 0 ? 1 : 0))
  if (policy === 'random' || n < d) return Array.from({length: n}, () => 1 / n)
  // The shortest of d distinct samples sits at sorted position i when the other d−1 lie above it.
  const total = binom(n, d)
  return Array.from({length: n}, (_, i) => binom(n - 1 - i, d - 1) / total)
}

function binom(n: number, k: number): number {
  if (k < 0 || k > n) return 0
  let c = 1
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i
  return c
}

/**
 * Least-connections (modelled as join-the-shortest-queue: the balancer sees every request) and power
 * of two choices (nginx `random two least_conn`, HAProxy `random(2)`): exact for exponential service by
 * the lumped Markov chain (cluster-ctmc.ts). Other Cs²: the chain's P(wait) with the wait scaled by
 * (1 + Cs²)/2, the Allen-Cunneen-style correction (named approximation, not a published JSQ result).
 */
function dispatch(policy: 'least-conn' | 'random-two', n: number, lambda: number, s: number, cs2: number, expo: boolean, rho: number): ClusterPrediction {
  const mu = 1 / s
  const r = solveDispatchCtmc({replicas: n, arrivalRate: lambda, serviceTime: s, positionProbs: positionProbabilities(policy, n)})
  if (!r) return largeN(policy, n, lambda, s, cs2, rho)
  const probWait = 1 - (r.joinDistribution[0] ?? 0)
  const wqExp = r.w - s
  const name = policy === 'least-conn' ? 'join-the-shortest-queue' : 'power of two choices'
  const chain = `${name}, exact Markov chain over ${r.states} lumped states (cap ${r.cap})`
  if (expo) {
    return {
      policy,
      method: chain,
      exact: true,
      utilisation: rho,
      probWait,
      wq: wqExp,
      w: r.w,
      responseQuantile: (p) => {
        requireOpenUnit('percentile', p)
        return quantileFromTail((t) => joinResponseTail(r.joinDistribution, mu, t), p, Math.max(s, r.w))
      },
      note:
        policy === 'least-conn'
          ? 'least-conn ≈ JSQ when one balancer sees all traffic (one nginx worker)'
          : 'two distinct replicas sampled per request; N = 2 equals JSQ',
    }
  }
  const wq = wqExp * ((1 + cs2) / 2)
  return {
    policy,
    method: `${chain}, wait × (1+Cs²)/2`,
    exact: false,
    utilisation: rho,
    probWait,
    wq,
    w: wq + s,
    responseQuantile: (p) => approxResponseQuantile({probWait, wq}, s, p),
    note: 'exponential-service chain with an Allen-Cunneen-style variability scaling: approximation',
  }
}

/**
 * Too many replicas for the chain: power of two falls back to the supermarket (N → ∞) model, which is
 * optimistic for finite N; JSQ to the central queue M/M/N, its heavy-traffic limit (Foschini & Salz 1978)
 * and a lower bound. Both named approximations.
 */
function largeN(policy: 'least-conn' | 'random-two', n: number, lambda: number, s: number, cs2: number, rho: number): ClusterPrediction {
  const scale = (1 + cs2) / 2
  if (policy === 'random-two') {
    const m = supermarket(rho, s)
    const wq = m.wq * scale
    return {
      policy,
      method: 'supermarket model (N → ∞, mean field)',
      exact: false,
      utilisation: rho,
      probWait: rho ** 2,
      wq,
      w: wq + s,
      responseQuantile: m.responseQuantile,
      note: `N = ${n} is too large for the exact chain; the mean-field limit is optimistic for finite N`,
    }
  }
  const c = central(n, lambda, s, cs2, Math.abs(cs2 - 1) < 1e-12)
  return {
    ...c,
    policy,
    method: `${c.method} as JSQ's heavy-traffic limit (Foschini-Salz)`,
    exact: false,
    note: `N = ${n} is too large for the exact chain; the central queue is a lower bound for JSQ`,
  }
}

/**
 * The supermarket model (Mitzenmacher 2001; Vvedenskaya et al. 1996), N → ∞, exponential service:
 * fraction of queues with at least i jobs s_i = ρ^((d^i − 1)/(d − 1)); E[T] = S·Σ_{i≥1} s_i/ρ. An arrival
 * joins a queue with k jobs with probability s_k^d − s_{k+1}^d. Finite N does worse (the chain above is
 * exact there); d = 1 gives M/M/1.
 */
export function supermarket(rho: number, serviceTime: number, d = 2) {
  requireOpenUnit('utilisation ρ', rho)
  requirePositive('service time', serviceTime)
  requirePositiveInteger('choices d', d)
  const tail = (i: number) => rho ** (d === 1 ? i : (d ** i - 1) / (d - 1))
  const s: number[] = [1]
  for (let i = 1; i < 10_000 && s[i - 1]! > 1e-300; i++) s.push(tail(i))
  let sum = 0
  for (let i = 1; i < s.length; i++) sum += s[i]!
  const join = s.map((v, k) => v ** d - (s[k + 1] ?? 0) ** d)
  const w = (serviceTime * sum) / rho
  return {
    queueTail: tail,
    w,
    wq: w - serviceTime,
    responseQuantile: (p: number) => {
      requireOpenUnit('percentile', p)
      return quantileFromTail((t) => joinResponseTail(join, 1 / serviceTime, t), p, Math.max(serviceTime, w))
    },
  }
}
