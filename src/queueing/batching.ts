import {usageError} from '../errors.js'
import {allenCunneen} from './ggc.js'
import {mdc} from './mdc.js'
import {fmt, requireNonNegative, requirePositive, requirePositiveInteger} from './validate.js'

/**
 * Server-side batching (TF Serving's batcher: one queue, `num_batch_threads` workers, a batch closes
 * when it holds max_batch_size requests or batch_timeout_micros after its first request).
 * Units: seconds, requests per second. Model per queueing.md §Batching; what is derived here rather
 * than published is marked so, and must be validated against measurements.
 */

/** Per-batch service time t(b) = α + β·b: α fixed cost per batch (s), β marginal cost per item (s). */
export interface BatchCost {
  alpha: number
  beta: number
}

export const batchTime = (m: BatchCost, b: number): number => m.alpha + m.beta * b

export interface BatchSample {
  batchSize: number
  /** Seconds to run the batch. */
  batchTime: number
  /** e.g. how many batches a mean stands for; default 1. */
  weight?: number
}

/**
 * Weighted least squares for t(b) = α + βb (normal equations of a straight line). Needs two distinct
 * batch sizes — with one size α and β cannot be separated.
 */
export function fitBatchCost(samples: BatchSample[]): BatchCost & {n: number; rmse: number; warnings: string[]} {
  if (samples.length < 2) throw usageError(`fitting t(b) = α + βb needs at least 2 (batch size, batch time) samples; got ${samples.length}`)
  let sw = 0,
    sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0
  for (const s of samples) {
    requirePositive('batch size', s.batchSize)
    requireNonNegative('batch time', s.batchTime)
    const w = s.weight ?? 1
    requireNonNegative('weight', w)
    sw += w
    sx += w * s.batchSize
    sy += w * s.batchTime
    sxx += w * s.batchSize ** 2
    sxy += w * s.batchSize * s.batchTime
  }
  const det = sw * sxx - sx * sx
  if (!(det > 1e-12 * sw * sxx))
    throw usageError('fitting t(b) = α + βb needs batches of at least two different sizes (all samples have the same batch size); vary max batch size or load')
  const beta = (sw * sxy - sx * sy) / det
  const alpha = (sy - beta * sx) / sw
  let sse = 0
  for (const s of samples) sse += (s.weight ?? 1) * (s.batchTime - alpha - beta * s.batchSize) ** 2
  const warnings: string[] = []
  if (alpha < 0) warnings.push(`fitted α = ${fmt(alpha)} s < 0: no fixed per-batch cost is visible; the linear model does not hold over these sizes`)
  if (beta <= 0)
    warnings.push(
      `fitted β = ${fmt(beta)} s ≤ 0: batch time does not grow with size (memory-bound or measurement noise); capacity grows without bound in this model`,
    )
  return {alpha, beta, n: samples.length, rmse: Math.sqrt(sse / sw), warnings}
}

/** Capacity with c workers and max batch B: X_max = c·B/t(B), tending to c/β as B grows. */
export function batchCapacity(m: BatchCost, maxBatchSize: number, workers = 1) {
  requirePositiveInteger('max batch size', maxBatchSize)
  requirePositiveInteger('workers', workers)
  const t = batchTime(m, maxBatchSize)
  return {
    perWorker: maxBatchSize / t,
    total: (workers * maxBatchSize) / t,
    asymptote: m.beta > 0 ? workers / m.beta : Infinity,
  }
}

/** ln of the Poisson pmf P(K = j), mean m (log space: no underflow for large m). */
function poissonPmfs(m: number, upTo: number): number[] {
  const out: number[] = []
  if (m === 0) {
    for (let j = 0; j <= upTo; j++) out.push(j === 0 ? 1 : 0)
    return out
  }
  let lnFact = 0
  const lnM = Math.log(m)
  for (let j = 0; j <= upTo; j++) {
    if (j > 0) lnFact += Math.log(j)
    out.push(Math.exp(j * lnM - m - lnFact))
  }
  return out
}

/**
 * Batch formation under a timeout, assuming a worker is free when the batch closes. The first request
 * opens a batch at time 0; it closes at τ = min(T, A_{B−1}) (A_k: k-th later arrival, Poisson rate λ).
 * Derivation (renewal-reward; ours, not a published result):
 *   batch size b = min(1 + Pois(λT), B),
 *   total formation wait in a batch = ∫₀^τ N(t) dt, so per request
 *   E[wait] = ∫₀^T Σ_{j=0}^{B−2} (1+j)·P(Pois(λt) = j) dt / E[b],
 *   P(τ > t) = P(Pois(λt) ≤ B−2) for t < T.
 * Limits: B → ∞ gives queueing.md's (T + λT²/2)/(1 + λT); λT ≫ B gives (B−1)/(2λ).
 */
export function batchFormation(arrivalRate: number, maxBatchSize: number, timeout: number) {
  requirePositive('arrival rate', arrivalRate)
  requirePositiveInteger('max batch size', maxBatchSize)
  requireNonNegative('timeout', timeout)
  const B = maxBatchSize
  const lam = arrivalRate
  // Batch size moments from the Poisson count at T.
  const pT = poissonPmfs(lam * timeout, Math.max(0, B - 2))
  let eb = 0,
    eb2 = 0,
    below = 0
  for (let j = 0; j <= B - 2; j++) {
    eb += (1 + j) * pT[j]!
    eb2 += (1 + j) ** 2 * pT[j]!
    below += pT[j]!
  }
  const tailMass = Math.max(0, 1 - below)
  eb += B * tailMass
  eb2 += B * B * tailMass
  // Integrals over [0, U] by composite Simpson's rule (integrands are smooth in t). Beyond
  // U = (B + 12√B + 30)/λ the batch is full with probability 1 − O(1e-20), so the integrands vanish.
  const upper = Math.min(timeout, (B + 12 * Math.sqrt(B) + 30) / lam)
  const steps = 400
  const h = upper / steps
  let waitInt = 0,
    tauInt = 0,
    tau2Int = 0
  for (let i = 0; i <= steps && timeout > 0; i++) {
    const t = i * h
    const w = i === 0 || i === steps ? 1 : i % 2 === 1 ? 4 : 2
    const p = poissonPmfs(lam * t, Math.max(0, B - 2))
    let n = 0,
      surv = 0
    for (let j = 0; j <= B - 2; j++) {
      n += (1 + j) * p[j]!
      surv += p[j]!
    }
    waitInt += w * n
    tauInt += w * surv
    tau2Int += w * 2 * t * surv
  }
  const k = h / 3
  const eTau = tauInt * k
  const eTau2 = tau2Int * k
  return {
    meanBatchSize: eb,
    varBatchSize: Math.max(0, eb2 - eb * eb),
    /** Request-weighted mean batch size E[b²]/E[b] (what a random request experiences). */
    sizeBiasedBatchSize: eb2 / eb,
    meanFormationWait: (waitInt * k) / eb,
    meanCloseTime: eTau,
    varCloseTime: Math.max(0, eTau2 - eTau * eTau),
  }
}

export interface BatchLatencyInput extends BatchCost {
  arrivalRate: number
  maxBatchSize: number
  /** batch timeout in seconds; 0 = greedy (take what is queued, up to B). */
  timeout: number
  workers: number
}

export interface BatchLatency {
  model: 'timeout' | 'greedy' | 'greedy-backlog' | 'unbatched'
  meanBatchSize: number
  batchRate: number
  utilisation: number
  formationWaitS: number
  queueWaitS: number
  serviceS: number
  meanLatencyS: number
  capacity: ReturnType<typeof batchCapacity>
  notes: string[]
}

/**
 * Mean latency of a request under batching. Unstable loads (λ ≥ c·B/t(B)) throw E_USAGE.
 *  - timeout > 0: formation (batchFormation) + Allen-Cunneen wait of batches as customers at rate
 *    λ/E[b] with batch inter-arrival Ca² from τ + Exp(λ) and service Cs² from the batch-size spread,
 *    + the size-biased batch time. If those batches alone would overload the workers, the backlog
 *    makes batches bigger than the timeout does: fall back to the greedy model.
 *  - timeout = 0 (greedy): per worker λ_w = λ/c, steady state b* = λ_w·α/(1 − λ_w·β) and latency
 *    ≈ 1.5·t(b*) (queueing.md: a derivation, not a published result). When b* < 1 batches are mostly
 *    single requests: M/D/c with service t(1) (Cosmetatos).
 */
export function batchLatency(input: BatchLatencyInput): BatchLatency {
  const {arrivalRate: lam, maxBatchSize: B, timeout: T, workers: c} = input
  requirePositive('arrival rate', lam)
  requireNonNegative('α', input.alpha)
  requirePositive('β', input.beta)
  requireNonNegative('timeout', T)
  const capacity = batchCapacity(input, B, c)
  if (lam >= capacity.total) {
    throw usageError(
      `arrival rate ${fmt(lam)}/s ≥ batching capacity c·B/t(B) = ${fmt(capacity.total)}/s: the queue grows without bound; raise --max-batch-size or --workers, or lower --arrival-rate`,
    )
  }
  const notes: string[] = []
  if (T > 0) {
    const f = batchFormation(lam, B, T)
    const batchRate = lam / f.meanBatchSize
    const tMean = batchTime(input, f.meanBatchSize)
    const rho = (batchRate * tMean) / c
    if (rho < 1) {
      const interMean = f.meanCloseTime + 1 / lam
      const ca2 = (f.varCloseTime + 1 / lam ** 2) / interMean ** 2
      const cs2 = (input.beta ** 2 * f.varBatchSize) / tMean ** 2
      const ac = allenCunneen({arrivalRate: batchRate, serviceTime: tMean, servers: c, arrivalScv: ca2, serviceScv: cs2})
      const serviceS = batchTime(input, f.sizeBiasedBatchSize)
      notes.push('formation wait: exact for Poisson arrivals given a free worker; batch queueing: Allen-Cunneen (approximation)')
      if (rho > 0.8)
        notes.push(
          `batch utilisation ρ = ${fmt(rho)} > 0.8: a backlog makes real batches bigger than the timeout alone, so this overestimates the queueing wait`,
        )
      return {
        model: 'timeout',
        meanBatchSize: f.meanBatchSize,
        batchRate,
        utilisation: rho,
        formationWaitS: f.meanFormationWait,
        queueWaitS: ac.wq,
        serviceS,
        meanLatencyS: f.meanFormationWait + ac.wq + serviceS,
        capacity,
        notes,
      }
    }
    notes.push(
      `timeout-sized batches (mean ${fmt(f.meanBatchSize)}) would load the workers to ρ = ${fmt(rho)} ≥ 1; the backlog fills batches instead: greedy model used`,
    )
  }
  const lw = lam / c
  const bStar = (lw * input.alpha) / (1 - lw * input.beta)
  if (bStar < 1) {
    const t1 = batchTime(input, 1)
    const q = mdc({arrivalRate: lam, serviceTime: t1, servers: c})
    notes.push(`steady-state batch b* = ${fmt(bStar)} < 1: requests mostly run alone; M/D/c with service t(1) (Cosmetatos)`)
    return {
      model: 'unbatched',
      meanBatchSize: 1,
      batchRate: lam,
      utilisation: q.utilisation,
      formationWaitS: 0,
      queueWaitS: q.wq,
      serviceS: t1,
      meanLatencyS: q.w,
      capacity,
      notes,
    }
  }
  const tb = batchTime(input, bStar)
  notes.push('greedy steady state b* = λ_w·α/(1 − λ_w·β), latency ≈ 1.5·t(b*): a derivation (queueing.md), not a published result — validate it')
  return {
    model: T > 0 ? 'greedy-backlog' : 'greedy',
    meanBatchSize: bStar,
    batchRate: lam / bStar,
    utilisation: 1,
    formationWaitS: 0,
    queueWaitS: tb / 2,
    serviceS: tb,
    meanLatencyS: 1.5 * tb,
    capacity,
    notes,
  }
}
