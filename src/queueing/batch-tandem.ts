import {usageError} from '../errors.js'
import {batchLatency, batchTime, type BatchCost} from './batching.js'
import {allenCunneen} from './ggc.js'
import {fmt, requireNonNegative, requirePositive, requirePositiveInteger} from './validate.js'

/**
 * A batching server as two stations in tandem (units: seconds, requests per second):
 *   main thread — one server, per-request demand S_main (HTTP parsing, JSON in and out);
 *   worker pool — c workers running batches; a batch of b requests costs t(b) = α + β·b;
 * plus a delay d that does not queue (client, loopback TCP, thread hand-offs seen at low load).
 * One-station models charge all of that to the worker (and so overstate its load); the batching model
 * alone (batching.ts) leaves the main thread out. Which parts are textbook and which are derived here is
 * said at each function; docs/QUEUEING.md §Batch tandem has the derivation.
 */

export interface BatchTandemStations extends BatchCost {
  /** Main-thread demand per request, s. */
  mainServiceS: number
  /**
   * Main-thread work per BATCH (dispatching it, handling its result message), s: a request's main-thread
   * demand is then S_main + mainPerBatchS/B. Absent or 0: S_main alone.
   */
  mainPerBatchS?: number
  /**
   * A third single-server station (the load generator's own thread, station-model.ts), s per request;
   * absent or 0 leaves the network as the two stations above.
   */
  generatorDemandS?: number
  /** Delay outside both stations (not queued), s. */
  delayS: number
  maxBatchSize: number
  workers: number
}

export interface BatchTandemClosedResult {
  throughput: number
  /** Client-seen mean latency d + R_main + R_worker (think time excluded), s. */
  meanLatencyS: number
  /** Mean batch size B from the fixed point. */
  batchSize: number
  /** True when B sits at its cap min(max batch size, N/(c+1)). */
  batchCapped: boolean
  mainResponseS: number
  workerResponseS: number
  /** Residence at the optional generator station (0 without one), s: part of the cycle, not of the latency. */
  generatorResponseS: number
  mainUtilisation: number
  /** Fraction of worker time busy: X·t(B)/(c·B). */
  workerUtilisation: number
}

/**
 * Exact MVA (Reiser & Lavenberg 1980; Lazowska et al., QSP ch. 6 and §8.3) for N customers cycling through
 * a delay Z + d, a single FCFS server of demand S_m and a station of c servers of per-request demand D_w
 * (load-dependent, rate min(j, c)/D_w; for c = 1 the load-independent form D_w(1 + Q_w)):
 *   R_m(n) = S_m(1 + Q_m(n−1)),  R_w(n) = Σ_j j·D_w/min(j,c)·p_w(j−1 | n−1),
 *   X(n) = n/(Z + d + R_m(n) + R_w(n)),  Q_m(n) = X·R_m,  p_w(j | n) = X·D_w/min(j,c)·p_w(j−1 | n−1).
 * An optional third single-server station of demand D_g (the load generator's thread) adds
 * R_g(n) = D_g(1 + Q_g(n−1)) to the cycle; its residence is returned apart (it is not server latency).
 * Textbook; exact for exponential FCFS service (product form).
 */
export function tandemMva(input: {
  concurrency: number
  thinkTimeS: number
  delayS: number
  mainServiceS: number
  workerDemandS: number
  workers: number
  generatorDemandS?: number
}) {
  const {concurrency: N, thinkTimeS: z, delayS: d, mainServiceS: sm, workerDemandS: dw, workers: c} = input
  const dg = input.generatorDemandS ?? 0
  requireNonNegative('generator demand', dg)
  requirePositiveInteger('concurrency N', N)
  requirePositiveInteger('workers', c)
  for (const [name, v] of [
    ['think time', z],
    ['delay', d],
    ['main-thread demand', sm],
    ['worker demand', dw],
  ] as const)
    requireNonNegative(name, v)
  if (!(z + d + sm + dw > 0)) throw usageError('a closed loop needs some time per cycle: think time, delay and demands are all 0')
  let qm = 0
  let qw = 0
  let qg = 0
  let p: number[] = [1]
  let x = 0,
    rm = 0,
    rw = 0,
    rg = 0
  for (let n = 1; n <= N; n++) {
    rm = sm * (1 + qm)
    rg = dg * (1 + qg)
    if (c === 1) rw = dw * (1 + qw)
    else {
      rw = 0
      for (let j = 1; j <= n; j++) rw += ((j * dw) / Math.min(j, c)) * (p[j - 1] ?? 0)
    }
    x = n / (z + d + rm + rw + rg)
    qm = x * rm
    qw = x * rw
    qg = x * rg
    if (c > 1) {
      const next = new Array<number>(n + 1).fill(0)
      let sum = 0
      for (let j = 1; j <= n; j++) sum += next[j] = ((x * dw) / Math.min(j, c)) * (p[j - 1] ?? 0)
      next[0] = Math.max(0, 1 - sum) // the known cancellation of load-dependent MVA: clamp, never negative
      p = next
    }
  }
  return {throughput: x, mainResponseS: rm, workerResponseS: rw, generatorResponseS: rg}
}

/**
 * Mean batch size under greedy batching (timeout 0: a worker that comes free takes every waiting
 * request, up to the cap). DERIVED HERE, not a published result: with Poisson arrivals at λ per worker,
 * a batch that starts as the previous one ends takes the K ~ Pois(λ·h) requests that arrived while the
 * worker was held for h; when K = 0 the worker idles and the next arrival starts a batch of 1. So
 * E[B] = E[max(K, 1)] = λh + e^{−λh}, with h taken at the mean batch (mean-value approximation: the
 * spread of h is ignored). λh → 0 gives 1; λh ≫ 1 gives the greedy steady state B = λ·h, which for
 * h = t(B) is batching.ts's b* = λα/(1 − λβ).
 */
export function greedyBatchSize(arrivalRatePerWorker: number, holdS: number): number {
  const m = arrivalRatePerWorker * holdS
  return m + Math.exp(-m)
}

/**
 * Closed loop (N clients, think time Z) through the two stations, with batching. DERIVED HERE (MVA is
 * exact for product-form networks; bulk service is not one, and the mean batch size stands in for its
 * distribution):
 *  - the worker's per-request demand is t(B)/B;
 *  - B = min(cap, greedyBatchSize(X/c, h)) with X from tandemMva. The hold h is t(B) plus the main
 *    thread's queueing delay W_main = R_main − S_main: in `tfsopt serve` a worker counts as free only
 *    when the main thread has handled its result message, and that message waits behind the main
 *    thread's queue like any arrival (arrival theorem);
 *  - cap = min(max batch size, max(1, N/(c+1))): when a worker comes free, the clients of the batch it
 *    just ran have not been answered yet and c − 1 other batches are running, so at most N − c·B can be
 *    waiting; with a backlog the clients split into alternating cohorts (N/2 per batch for c = 1).
 * The right-hand side grows with B, so the smallest fixed point in [1, cap] is the one reached by
 * letting batches grow from 1; it is found by a scan for the first sign change, then bisection.
 * Reduces to ordinary two-station MVA when α = 0 (demand β whatever B is) or max batch size = 1.
 */
export function batchTandemClosed(input: BatchTandemStations & {concurrency: number; thinkTimeS?: number}): BatchTandemClosedResult {
  const {concurrency: N, maxBatchSize, workers: c} = input
  const z = input.thinkTimeS ?? 0
  requirePositiveInteger('concurrency N', N)
  requirePositiveInteger('max batch size', maxBatchSize)
  requirePositiveInteger('workers', c)
  requireNonNegative('main-thread service time', input.mainServiceS)
  requireNonNegative('delay', input.delayS)
  requireNonNegative('think time', z)
  requireNonNegative('α', input.alpha)
  requireNonNegative('β', input.beta)
  if (!(input.alpha + input.beta > 0)) throw usageError('the batch cost t(b) = α + βb must be > 0 for b ≥ 1 (α = β = 0)')
  const cap = Math.min(maxBatchSize, Math.max(1, N / (c + 1)))
  const perBatch = input.mainPerBatchS ?? 0
  requireNonNegative('main-thread work per batch', perBatch)
  const mainAt = (b: number) => input.mainServiceS + perBatch / b
  const solve = (b: number) => {
    const t = batchTime(input, b)
    const sm = mainAt(b)
    const r = tandemMva({
      concurrency: N,
      thinkTimeS: z,
      delayS: input.delayS,
      mainServiceS: sm,
      workerDemandS: t / b,
      workers: c,
      generatorDemandS: input.generatorDemandS,
    })
    const hold = t + Math.max(0, r.mainResponseS - sm)
    return {...r, t, sm, next: Math.min(cap, greedyBatchSize(r.throughput / c, hold))}
  }
  let b = 1
  if (cap > 1 && solve(1).next > 1) {
    // g(B) = next(B) − B ≥ 0 at B = 1 and ≤ 0 at the cap: scan for the first sign change, bisect in it.
    // Each solve is an MVA over N (O(N²) for c > 1): a coarse scan and a bisection to 1e-7 keep it cheap.
    const steps = 32
    let lo = 1
    let hi = cap
    for (let i = 1; i <= steps; i++) {
      const x = 1 + ((cap - 1) * i) / steps
      if (solve(x).next - x <= 0) {
        hi = x
        break
      }
      lo = x
    }
    for (let i = 0; i < 60 && hi - lo > 1e-7 * hi; i++) {
      const mid = (lo + hi) / 2
      if (solve(mid).next - mid > 0) lo = mid
      else hi = mid
    }
    b = hi
  }
  const r = solve(b)
  return {
    throughput: r.throughput,
    meanLatencyS: input.delayS + r.mainResponseS + r.workerResponseS,
    batchSize: b,
    batchCapped: cap > 1 && b >= cap * (1 - 1e-6),
    mainResponseS: r.mainResponseS,
    workerResponseS: r.workerResponseS,
    generatorResponseS: r.generatorResponseS,
    mainUtilisation: r.throughput * r.sm,
    workerUtilisation: (r.throughput * r.t) / (c * b),
  }
}

/**
 * Open loop (arrival rate λ) through the two stations: d + W_main + W_batching.
 *  - main thread: G/G/1 by Allen-Cunneen/Kingman with the given Ca², Cs² (exact M/M/1 and, with
 *    Ca² = 1, Pollaczek-Khinchine M/G/1): textbook;
 *  - worker pool: batchLatency (batching.ts), fed at λ as if the main thread's departures were Poisson
 *    (Burke's theorem makes that exact for M/M/1; otherwise an approximation): DERIVED, see batching.ts.
 * Throws E_USAGE when either station is at or over capacity.
 */
export function batchTandemOpen(input: BatchTandemStations & {arrivalRate: number; timeoutS: number; arrivalScv?: number; mainScv?: number}) {
  const {arrivalRate: lam} = input
  requirePositive('arrival rate', lam)
  requirePositive('main-thread service time', input.mainServiceS)
  requireNonNegative('delay', input.delayS)
  const overloaded = (sm: number) =>
    usageError(`main-thread utilisation λ·S_main = ${fmt(lam * sm)} ≥ 1: the main thread cannot keep up (capacity ${fmt(1 / sm)}/s)`)
  // Per-request work alone already overloads it: say so before the batching model is asked.
  if (lam * input.mainServiceS >= 1) throw overloaded(input.mainServiceS)
  const batch = batchLatency({
    alpha: input.alpha,
    beta: input.beta,
    maxBatchSize: input.maxBatchSize,
    timeout: input.timeoutS,
    workers: input.workers,
    arrivalRate: lam,
  })
  // The batch size does not depend on the main thread here (Poisson departures assumed), so the main
  // thread's per-request demand follows from it.
  const sm = input.mainServiceS + (input.mainPerBatchS ?? 0) / batch.meanBatchSize
  const rho = lam * sm
  if (rho >= 1) throw overloaded(sm)
  const main = allenCunneen({arrivalRate: lam, serviceTime: sm, servers: 1, arrivalScv: input.arrivalScv ?? 1, serviceScv: input.mainScv ?? 1})
  return {
    throughput: lam,
    meanLatencyS: input.delayS + main.w + batch.meanLatencyS,
    mainResponseS: main.w,
    mainUtilisation: rho,
    batching: batch,
  }
}
