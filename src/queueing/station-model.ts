import {usageError} from '../errors.js'
import {batchTandemClosed, batchTandemOpen} from './batch-tandem.js'
import {batchTime} from './batching.js'
import {allenCunneen} from './ggc.js'
import {fmt, requireNonNegative, requirePositive, requirePositiveInteger} from './validate.js'

/**
 * The station model: `tfsopt serve` and its load generator as the threads that really queue, each with
 * the demand the server's (and the generator's) own busy-time counters measured — not one lone-client
 * latency standing in for all of them (docs/QUEUEING.md §Station model). Units: seconds, per second.
 *
 *   generator — the load generator's thread: one server, demand D_g (its CPU seconds per request);
 *   main      — the server's HTTP thread: one server, demand D_m (event-loop busy seconds per request);
 *   workers   — c inference workers; a batch of b requests costs t(b) = α + β·b (b = 1 without batching);
 *   delay d   — time that does not queue: loopback TCP, thread hand-offs;
 *   gap Z     — closed loop: from a response to the same connection's next request (a think time);
 *   wake w    — what a request pays when it finds the whole path idle: sleeping threads and halted vCPUs
 *               must be woken. It is a LOAD-DEPENDENT cost, paid with the probability that the request
 *               finds no other request in the system: in a closed loop with no think time that is 1 for
 *               one client and 0 for two or more (the other N − 1 requests are always in flight); in an
 *               open loop it is P(empty) = Π(1 − ρ_k) (Jackson's product form, Poisson arrivals).
 *
 * The network is solved by batch-tandem.ts (exact MVA for three single/multi-server stations; the batch
 * size from its greedy fixed point). What is calibrated from which measurement is in calibrateClosed.
 */
export interface StationDemands {
  generatorS: number
  mainS: number
  /** Main-thread work per batch, s (a request's main-thread demand is mainS + mainPerBatchS/B). */
  mainPerBatchS?: number
  workers: number
  /** Batch cost t(b) = α + β·b, s. Without batching t(1) = α + β is the worker's time per request. */
  alpha: number
  beta: number
  maxBatchSize: number
  /** Batch timeout, s (open loop only; the closed-loop tandem assumes greedy batching). */
  timeoutS: number
  /** CPU seconds per request of server and generator together, and the machine's cores: X ≤ cores/cpu. */
  cpuPerRequestS?: number
  cores?: number
}

export interface StationCalibration extends StationDemands {
  delayS: number
  gapS: number
  wakeS: number
  /** Measured capacity X_max, req/s (the highest load's throughput): X ≤ X_max. Absent: the stations alone. */
  capacity?: number
}

export interface StationForecast {
  throughput: number
  meanLatencyS: number
  /** Mean batch size the model expects (1 without batching). */
  batchSize: number
  mainUtilisation: number
  workerUtilisation: number
  generatorUtilisation: number
  /** The share of the wake-up cost w in the forecast latency, s. */
  wakeS: number
  /** True when the machine's cores or the measured capacity, not one thread, bound the throughput. */
  cpuBound: boolean
}

function validateDemands(d: StationDemands): void {
  requireNonNegative('generator demand', d.generatorS)
  requireNonNegative('main-thread demand', d.mainS)
  requireNonNegative('main-thread work per batch', d.mainPerBatchS ?? 0)
  requirePositiveInteger('workers', d.workers)
  requireNonNegative('α', d.alpha)
  requireNonNegative('β', d.beta)
  requirePositiveInteger('max batch size', d.maxBatchSize)
  if (!(d.alpha + d.beta > 0)) throw usageError('the worker needs some time per batch: t(b) = α + βb is 0')
}

/**
 * Closed loop, N connections: MVA over generator, main thread and workers with think time Z = gap and
 * delay d; the latency is the cycle minus the gap, N/X − Z, plus w for a lone client. When the threads'
 * CPU together would need more than the machine's cores (X·cpu > cores), the cores bound X instead and
 * the latency follows from the cycle (Little: N/X − Z).
 */
export function stationClosed(cal: StationCalibration, concurrency: number): StationForecast {
  validateDemands(cal)
  requirePositiveInteger('concurrency N', concurrency)
  const r = batchTandemClosed({
    alpha: cal.alpha,
    beta: cal.beta,
    mainServiceS: cal.mainS,
    mainPerBatchS: cal.mainPerBatchS,
    generatorDemandS: cal.generatorS,
    delayS: cal.delayS,
    maxBatchSize: cal.maxBatchSize,
    workers: cal.workers,
    concurrency,
    thinkTimeS: cal.gapS,
  })
  const wake = concurrency === 1 ? cal.wakeS : 0
  let x = concurrency / (concurrency / r.throughput + wake)
  let cpuBound = false
  if (cal.cores && cal.cpuPerRequestS && x * cal.cpuPerRequestS > cal.cores) {
    x = cal.cores / cal.cpuPerRequestS
    cpuBound = true
  }
  if (cal.capacity !== undefined && x > cal.capacity) {
    x = cal.capacity
    cpuBound = true
  }
  return {
    throughput: x,
    meanLatencyS: concurrency / x - cal.gapS,
    batchSize: r.batchSize,
    mainUtilisation: x * (cal.mainS + (cal.mainPerBatchS ?? 0) / r.batchSize),
    workerUtilisation: (x * batchTime(cal, r.batchSize)) / (cal.workers * r.batchSize),
    generatorUtilisation: x * cal.generatorS,
    wakeS: wake,
    cpuBound,
  }
}

/**
 * Open loop at λ (Poisson unless Ca² says otherwise): the generator and the main thread as G/G/1
 * (Allen-Cunneen with Cs² = 1 unless known: their busy time is many small events), the workers by
 * batchLatency (batching.ts) through batchTandemOpen, plus d, plus w·P(empty).
 */
export function stationOpen(cal: StationCalibration, arrivalRate: number, arrivalScv = 1): StationForecast {
  validateDemands(cal)
  requirePositive('arrival rate', arrivalRate)
  const lam = arrivalRate
  const rhoG = lam * cal.generatorS
  if (rhoG >= 1) throw usageError(`the load generator's thread cannot keep up: λ·D_g = ${fmt(rhoG)} ≥ 1`)
  if (cal.cores && cal.cpuPerRequestS && lam * cal.cpuPerRequestS >= cal.cores)
    throw usageError(`λ·cpu = ${fmt(lam * cal.cpuPerRequestS)} cores ≥ the machine's ${cal.cores}: no steady state`)
  if (cal.capacity !== undefined && lam >= cal.capacity) throw usageError(`λ = ${fmt(lam)}/s ≥ the measured capacity ${fmt(cal.capacity)}/s: no steady state`)
  const t = batchTandemOpen({
    alpha: cal.alpha,
    beta: cal.beta,
    mainServiceS: cal.mainS,
    mainPerBatchS: cal.mainPerBatchS,
    delayS: cal.delayS,
    maxBatchSize: cal.maxBatchSize,
    workers: cal.workers,
    arrivalRate: lam,
    timeoutS: cal.timeoutS,
    arrivalScv,
  })
  const gen = cal.generatorS > 0 ? allenCunneen({arrivalRate: lam, serviceTime: cal.generatorS, servers: 1, arrivalScv, serviceScv: 1}).w : 0
  const b = t.batching.meanBatchSize
  const rhoW = (lam * batchTime(cal, b)) / (cal.workers * b)
  const pEmpty = (1 - rhoG) * (1 - t.mainUtilisation) * Math.max(0, 1 - rhoW)
  const wake = cal.wakeS * pEmpty
  return {
    throughput: lam,
    meanLatencyS: t.meanLatencyS + gen + wake,
    batchSize: b,
    mainUtilisation: t.mainUtilisation,
    workerUtilisation: rhoW,
    generatorUtilisation: rhoG,
    wakeS: wake,
    cpuBound: false,
  }
}

export interface CalibrationPoint {
  concurrency: number
  throughput: number
  meanLatencyS: number
}

const bisect = (f: (x: number) => boolean, lo: number, hi: number, iterations = 50) => {
  for (let i = 0; i < iterations; i++) {
    const mid = (lo + hi) / 2
    if (f(mid)) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

/**
 * Closed-loop calibration on up to three declared points: the lone client (N = 1), the next load N₂ ≥ 2
 * and the highest load N_h > N₂. The busy-time counters give the demands; the client measurements give:
 *  - the gap Z = N₂/X₂ − R₂ (time from a response to the connection's next request);
 *  - the delay d that makes the model meet R₂ (bisection: the forecast latency grows with d);
 *  - with N_h, the CAPACITY X_h: the asymptotic bound X ≤ X_max (QSP §5.2) taken from the measurement.
 *    On a 2-core machine the threads saturate together before any one counter reaches 100% (the main
 *    thread's event loop peaks near 0.8–0.9 busy while it waits on worker results and the generator),
 *    so the counters alone overstate capacity; the highest load says where it is;
 *  - with the lone client, w = R₁ − (model at N = 1 with no wake-up cost).
 * d = 0 when the demands alone already exceed R₂ (said in `notes`). Every other point is a forecast.
 */
export function calibrateClosed(
  demands: StationDemands,
  loaded: CalibrationPoint,
  lone?: CalibrationPoint,
  high?: CalibrationPoint,
): StationCalibration & {notes: string[]} {
  validateDemands(demands)
  requirePositiveInteger('calibration concurrency', loaded.concurrency)
  requirePositive('calibration throughput', loaded.throughput)
  requirePositive('calibration latency', loaded.meanLatencyS)
  const notes: string[] = []
  const gapS = Math.max(0, loaded.concurrency / loaded.throughput - loaded.meanLatencyS)
  const capacity = high && high.concurrency > loaded.concurrency ? high.throughput : undefined
  const base = {...demands, gapS, wakeS: 0, ...(capacity !== undefined ? {capacity} : {})}
  const at = (delayS: number) => stationClosed({...base, delayS}, loaded.concurrency).meanLatencyS
  let delayS = 0
  if (at(0) >= loaded.meanLatencyS)
    notes.push(
      `the measured demands alone give ${fmt(at(0) * 1000, 3)} ms at N = ${loaded.concurrency}, above the measured ${fmt(loaded.meanLatencyS * 1000, 3)} ms: delay d = 0`,
    )
  else delayS = bisect((x) => at(x) < loaded.meanLatencyS, 0, loaded.meanLatencyS, 60)
  let wakeS = 0
  if (lone) {
    if (lone.concurrency !== 1) throw usageError('the lone-client calibration point must have N = 1')
    wakeS = lone.meanLatencyS - stationClosed({...base, delayS}, 1).meanLatencyS
  }
  return {...base, delayS, wakeS, notes}
}

/**
 * Open-loop calibration on the two lowest rates λ₁ < λ₂ (a group with no closed-loop points): the
 * forecast is linear in d and w, R_i = d + w·P_i(empty) + M_i, so two points give both (w = 0 and d from
 * one point when only one is given or P₁ = P₂).
 */
export function calibrateOpen(
  demands: StationDemands,
  points: Array<{arrivalRate: number; meanLatencyS: number}>,
  arrivalScv = 1,
): StationCalibration & {notes: string[]} {
  validateDemands(demands)
  if (!points.length) throw usageError('open-loop calibration needs at least one point')
  const zero = {...demands, delayS: 0, gapS: 0, wakeS: 0}
  const rows = points.slice(0, 2).map((p) => {
    const f = stationOpen(zero, p.arrivalRate, arrivalScv)
    const pEmpty = stationOpen({...zero, wakeS: 1}, p.arrivalRate, arrivalScv).wakeS
    return {m: f.meanLatencyS, p: pEmpty, r: p.meanLatencyS}
  })
  const notes: string[] = []
  let delayS: number
  let wakeS = 0
  const [a, b] = rows
  if (b && Math.abs(a!.p - b.p) > 1e-9) {
    wakeS = (a!.r - a!.m - (b.r - b.m)) / (a!.p - b.p)
    delayS = a!.r - a!.m - wakeS * a!.p
  } else delayS = a!.r - a!.m
  if (delayS < 0) {
    notes.push(`the measured demands alone exceed the lowest rate's latency by ${fmt(-delayS * 1000, 3)} ms: delay d = 0`)
    delayS = 0
  }
  return {...demands, delayS, gapS: 0, wakeS, notes}
}
