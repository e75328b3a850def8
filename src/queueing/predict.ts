import {TfsoptError, usageError} from '../errors.js'
import {compareCache} from './articles.js'
import {batchLatency} from './batching.js'
import {batchTandemClosed, batchTandemOpen} from './batch-tandem.js'
import {cacheLatency} from './cache.js'
import {asymptoticBounds, mva} from './closed.js'
import {allenCunneen, approxResponseQuantile, kingman} from './ggc.js'
import {closedLoopCheck, LITTLE_TOLERANCE, utilisationCheck} from './little.js'
import {mdc} from './mdc.js'
import {mg1} from './mg1.js'
import {mmc, mmcResponseQuantile} from './mmc.js'
import {fmt, relativeError} from './validate.js'

/**
 * The façade `tfsopt bench` calls for each measured point: every applicable model's prediction next
 * to the measurement, the relative error, and the model assumptions this point violates.
 * All times in SECONDS, rates in requests per SECOND.
 */
export interface PointObservation {
  mode: 'closed' | 'open'
  /** Closed loop: connections N. */
  concurrency?: number
  /** Open loop: offered arrival rate λ, req/s. */
  arrivalRate?: number
  /** Open loop arrival process; sets Ca² (poisson 1, constant 0) unless arrivalScv is given. */
  arrivals?: 'poisson' | 'constant'
  arrivalScv?: number
  /** Closed loop think time Z, s (0 for autocannon). */
  thinkTimeS?: number
  /** Parallel workers c. */
  workers: number
  /** Mean service time E[S] measured at low load, s. */
  serviceTimeS: number
  /** Measured Cs² = Var(S)/E[S]²; unknown → models assume their own value and say so. */
  serviceScv?: number
  measured: {throughput: number; meanLatencyS: number; p50LatencyS?: number; p99LatencyS?: number}
  cache?: {hitRatio: number; hitTimeS: number; missTimeS: number}
  batching?: {alpha: number; beta: number; maxBatchSize: number; timeoutS: number}
  /**
   * The two stations inside the server, from the lone client's server metrics (batch-tandem.ts):
   * main-thread time per request S_main and the delay d outside the server, s. With `batching`, adds
   * the batch tandem rows.
   */
  stations?: {mainServiceS: number; delayS: number}
  /** Realised mean batch size (server metrics), shown beside the tandem model's B. */
  measuredBatchSize?: number
  /** Highest throughput measured at another point of the same server setting, req/s (bounds the main thread's demand). */
  otherMaxThroughput?: number
  /** Relative tolerance for the consistency laws (default 0.05). */
  tolerance?: number
}

export type Quantity = 'throughput' | 'meanLatency' | 'p50Latency' | 'p99Latency' | 'throughputUpperBound' | 'latencyLowerBound'

/**
 * Which model a row comes from, for code to choose rows by (the `model` text is for people and may
 * carry parameters). 'unavailable' rows say why no model of a family applied.
 */
export type PredictionKind =
  | 'utilisation-law'
  | 'little'
  | 'asymptotic-bound'
  | 'mva'
  | 'flow-balance'
  | 'mmc'
  | 'mdc'
  | 'allen-cunneen'
  | 'mg1'
  | 'kingman'
  | 'cache-mixture'
  | 'cache-article'
  | 'batching'
  | 'batching-capacity'
  /** Batch tandem, main thread calibrated by the lone client's S_main. */
  | 'batch-tandem-lone-client'
  /** Batch tandem, main thread's demand bounded by 1/X of the other points (leave-one-out). */
  | 'batch-tandem-others'
  /** Generator, main thread and workers calibrated from busy-time counters on declared points (station-model.ts). */
  | 'station-model'
  /** A multi-worker setting forecast from the 1-worker setting's station calibration (worker-scaling.ts). */
  | 'station-model-workers'
  | 'unavailable'

export interface PredictionRow {
  kind: PredictionKind
  model: string
  quantity: Quantity
  unit: 'req/s' | 's'
  predicted: number | null
  measured: number | null
  /** (predicted − measured)/measured. */
  relErr: number | null
  assumptionsViolated: string[]
  note?: string
  /** True on a row that restates a point its model was calibrated on (not a forecast). */
  calibration?: boolean
}

const row = (
  kind: PredictionKind,
  model: string,
  quantity: Quantity,
  predicted: number | null,
  measured: number | null | undefined,
  assumptionsViolated: string[],
  note?: string,
): PredictionRow => ({
  model,
  quantity,
  unit: quantity.includes('hroughput') ? 'req/s' : 's',
  predicted,
  measured: measured ?? null,
  relErr: relativeError(predicted, measured),
  assumptionsViolated: [...assumptionsViolated],
  kind,
  ...(note ? {note} : {}),
})

export function predictPoint(obs: PointObservation): PredictionRow[] {
  const rows: PredictionRow[] = []
  const m = obs.measured
  const c = obs.workers
  const s = obs.serviceTimeS
  const tol = obs.tolerance ?? LITTLE_TOLERANCE
  const util = utilisationCheck({throughput: m.throughput, serviceTime: s, servers: c, tolerance: tol})
  rows.push(
    row(
      'utilisation-law',
      'utilisation law X ≤ c/E[S]',
      'throughputUpperBound',
      util.predicted,
      m.throughput,
      util.verdict === 'violated'
        ? [
            `measured throughput is ${fmt(-util.relErr * 100, 3)}% above c/E[S]: E[S] measured at low load overstates per-request work here (batching, caching?)`,
          ]
        : [],
      util.note,
    ),
  )
  if (obs.mode === 'closed') closedRows(obs, rows, tol)
  else openRows(obs, rows, tol)
  if (obs.cache) cacheRows(obs, rows)
  // The tandem before the batching model: where the one-station rows have no steady state, the first
  // usable row is then the tandem (measured closer than the batching model at every batched point).
  if (obs.batching && obs.stations) tandemRows(obs, rows, tol)
  if (obs.batching) batchRows(obs, rows)
  return rows
}

function closedRows(obs: PointObservation, rows: PredictionRow[], tol: number): void {
  const n = obs.concurrency
  const m = obs.measured
  const z = obs.thinkTimeS ?? 0
  if (n === undefined || !(n >= 1)) {
    rows.push(row('unavailable', 'closed-loop models', 'throughput', null, m.throughput, ['closed mode needs the concurrency N ≥ 1']))
    return
  }
  const little = closedLoopCheck({concurrency: n, throughput: m.throughput, meanResponseTime: m.meanLatencyS, thinkTime: z, tolerance: tol})
  rows.push(
    row(
      'little',
      "Little's law X = N/(R+Z)",
      'throughput',
      little.predicted,
      m.throughput,
      little.verdict === 'violated'
        ? [`Little's law off by ${fmt(little.relErr * 100, 3)}%: the measurement is suspect (generator saturated, errors not counted, warm-up included)`]
        : [],
      'consistency check, holds for any system',
    ),
  )
  const b = asymptoticBounds({concurrency: n, demand: obs.serviceTimeS, bottleneckDemand: obs.serviceTimeS / obs.workers, thinkTime: z})
  rows.push(
    row(
      'asymptotic-bound',
      'asymptotic bound',
      'throughputUpperBound',
      b.throughputUpper,
      m.throughput,
      m.throughput > b.throughputUpper * (1 + tol)
        ? ['measured throughput above the bound: the low-load E[S] overstates the per-request demand at this load']
        : [],
      `knee N* = ${fmt(b.kneeConcurrency)}`,
    ),
  )
  rows.push(
    row(
      'asymptotic-bound',
      'asymptotic bound',
      'latencyLowerBound',
      b.responseLower,
      m.meanLatencyS,
      m.meanLatencyS < b.responseLower * (1 - tol)
        ? ['measured latency below the bound: the low-load E[S] overstates the per-request demand at this load']
        : [],
    ),
  )
  const violated: string[] = []
  if (!Number.isInteger(n)) violated.push('MVA needs a whole number of clients')
  if (z > 0 && obs.serviceScv !== undefined && Math.abs(obs.serviceScv - 1) > 0.5)
    violated.push(`service not exponential (Cs² = ${fmt(obs.serviceScv, 3)}); MVA means are exact only for exponential FCFS service when think time > 0`)
  const last = mva({maxConcurrency: Math.max(1, Math.round(n)), serviceTime: obs.serviceTimeS, servers: obs.workers, thinkTime: z}).at(-1)!
  rows.push(row('mva', `MVA (${obs.workers} server${obs.workers > 1 ? 's' : ''}, exact)`, 'throughput', last.throughput, m.throughput, violated))
  rows.push(row('mva', `MVA (${obs.workers} server${obs.workers > 1 ? 's' : ''}, exact)`, 'meanLatency', last.responseTime, m.meanLatencyS, violated))
}

function openRows(obs: PointObservation, rows: PredictionRow[], tol: number): void {
  const m = obs.measured
  const lam = obs.arrivalRate
  if (lam === undefined || !(lam > 0)) {
    rows.push(row('unavailable', 'open-loop models', 'throughput', null, m.throughput, ['open mode needs the arrival rate λ > 0']))
    return
  }
  const c = obs.workers
  const s = obs.serviceTimeS
  const ca2 = obs.arrivalScv ?? (obs.arrivals === 'constant' ? 0 : 1)
  const rho = (lam * s) / c
  const unstable = rho >= 1 ? [`ρ = λ·E[S]/c = ${fmt(rho, 3)} ≥ 1: no steady state, the queue grows for as long as the test runs`] : []
  rows.push(
    row(
      'flow-balance',
      'flow balance X = λ',
      'throughput',
      rho < 1 ? lam : c / s,
      m.throughput,
      rho < 1 && m.throughput < lam * (1 - tol)
        ? ['throughput below the offered rate: requests were dropped, or the generator fell behind its schedule']
        : unstable,
      rho < 1 ? undefined : 'saturated: predicted throughput is the capacity c/E[S]',
    ),
  )
  if (rho >= 1) {
    for (const [kind, model] of [
      ['mmc', 'M/M/c'],
      ['mdc', 'M/D/c (Cosmetatos)'],
      ['allen-cunneen', 'Allen-Cunneen G/G/c'],
    ] as const)
      rows.push(row(kind, model, 'meanLatency', null, m.meanLatencyS, unstable))
    return
  }
  const poisson = ca2 === 1 ? [] : [`arrivals not Poisson (Ca² = ${fmt(ca2, 3)})`]
  const cs2 = obs.serviceScv
  const unknownCs = cs2 === undefined ? ['service-time variability not measured (Cs² unknown)'] : []
  const mmViol = [...poisson, ...(cs2 !== undefined && Math.abs(cs2 - 1) > 0.5 ? [`service not exponential (Cs² = ${fmt(cs2, 3)})`] : []), ...unknownCs]
  const q = mmc({arrivalRate: lam, serviceTime: s, servers: c})
  rows.push(row('mmc', 'M/M/c', 'meanLatency', q.w, m.meanLatencyS, mmViol))
  rows.push(row('mmc', 'M/M/c', 'p50Latency', mmcResponseQuantile(q, 0.5), m.p50LatencyS, mmViol))
  rows.push(row('mmc', 'M/M/c', 'p99Latency', mmcResponseQuantile(q, 0.99), m.p99LatencyS, mmViol))
  const mdViol = [...poisson, ...(cs2 !== undefined && cs2 > 0.5 ? [`service not deterministic (Cs² = ${fmt(cs2, 3)})`] : []), ...unknownCs]
  const d = mdc({arrivalRate: lam, serviceTime: s, servers: c})
  rows.push(row('mdc', 'M/D/c (Cosmetatos)', 'meanLatency', d.w, m.meanLatencyS, mdViol, c === 1 ? 'exact (Pollaczek-Khinchine) for c = 1' : 'approximation'))
  rows.push(
    row('mdc', 'M/D/c (Cosmetatos)', 'p99Latency', d.responseQuantile(0.99), m.p99LatencyS, mdViol, 'percentile: exponential conditional-wait approximation'),
  )
  if (cs2 !== undefined) {
    const ac = allenCunneen({arrivalRate: lam, serviceTime: s, servers: c, arrivalScv: ca2, serviceScv: cs2})
    rows.push(
      row(
        'allen-cunneen',
        'Allen-Cunneen G/G/c',
        'meanLatency',
        ac.w,
        m.meanLatencyS,
        [],
        `approximation with measured Cs² = ${fmt(cs2, 3)}, Ca² = ${fmt(ca2, 3)}`,
      ),
    )
    rows.push(
      row(
        'allen-cunneen',
        'Allen-Cunneen G/G/c',
        'p99Latency',
        approxResponseQuantile(ac, s, 0.99),
        m.p99LatencyS,
        cs2 > 0.5 ? [`percentile approximation assumes near-constant service (Cs² = ${fmt(cs2, 3)})`] : [],
        'percentile: exponential conditional-wait approximation',
      ),
    )
    if (c === 1) {
      if (ca2 === 1)
        rows.push(
          row(
            'mg1',
            'M/G/1 (Pollaczek-Khinchine)',
            'meanLatency',
            mg1({arrivalRate: lam, serviceTime: s, serviceScv: cs2}).w,
            m.meanLatencyS,
            [],
            'exact for Poisson arrivals',
          ),
        )
      else
        rows.push(
          row(
            'kingman',
            'Kingman G/G/1',
            'meanLatency',
            kingman({arrivalRate: lam, serviceTime: s, arrivalScv: ca2, serviceScv: cs2}).w,
            m.meanLatencyS,
            [],
            'heavy-traffic approximation',
          ),
        )
    }
  }
}

function cacheRows(obs: PointObservation, rows: PredictionRow[]): void {
  const k = obs.cache!
  rows.push(
    row(
      'cache-mixture',
      'cache mixture H·t_hit + (1−H)·t_miss',
      'meanLatency',
      cacheLatency(k.hitRatio, k.hitTimeS, k.missTimeS),
      obs.measured.meanLatencyS,
      [],
      'ignores queueing: valid at low load',
    ),
  )
  const cmp = compareCache(k.hitRatio, k.hitTimeS, k.missTimeS)
  rows.push(
    row(
      'cache-article',
      "seed article 000's cache form L(1−H) + 1/H (wrong)",
      'meanLatency',
      Number.isFinite(cmp.article) ? cmp.article : null,
      obs.measured.meanLatencyS,
      ['adds the unitless 1/H to seconds; grows as H falls'],
      `shown for comparison only; differs from the correct form by ${cmp.relDiff === null ? 'n/a' : `${fmt(cmp.relDiff * 100, 3)}%`}`,
    ),
  )
}

function batchRows(obs: PointObservation, rows: PredictionRow[]): void {
  const b = obs.batching!
  const violated: string[] = []
  let lam = obs.arrivalRate
  if (obs.mode === 'closed' || lam === undefined) {
    lam = obs.measured.throughput
    violated.push('closed loop: arrivals are not Poisson (λ taken as the measured throughput)')
  }
  try {
    const r = batchLatency({alpha: b.alpha, beta: b.beta, maxBatchSize: b.maxBatchSize, timeout: b.timeoutS, workers: obs.workers, arrivalRate: lam})
    rows.push(row('batching', `batching (${r.model})`, 'meanLatency', r.meanLatencyS, obs.measured.meanLatencyS, violated, r.notes.join('; ')))
    rows.push(row('batching-capacity', 'batching capacity c·B/t(B)', 'throughputUpperBound', r.capacity.total, obs.measured.throughput, []))
  } catch (err) {
    if (!(err instanceof TfsoptError)) throw err
    rows.push(row('batching', 'batching', 'meanLatency', null, obs.measured.meanLatencyS, [...violated, err.message]))
  }
}

/**
 * Main thread + batching worker (batch-tandem.ts; docs/QUEUEING.md §Batch tandem): closed loop by MVA
 * with the batch size from a fixed point, open loop as the main thread's queue followed by batchLatency.
 * Two calibrations of the main thread:
 *  - S_main as the lone client measured it. It includes thread wake-ups and hand-offs that are latency,
 *    not main-thread work, so a point whose throughput exceeds 1/S_main names that as violated;
 *  - DERIVED HERE: by the utilisation law U = X·D ≤ 1, any throughput X measured at another point of the
 *    same server setting bounds the main thread's demand by 1/X. When the highest such bound is below
 *    S_main, it is taken as the demand (i.e. the main thread is assumed saturated at that point) and the
 *    rest of S_main as a delay that does not queue, so one client still gets d + S_main + t(1). The
 *    point's own measurement is never used (leave-one-out).
 */
function tandemRows(obs: PointObservation, rows: PredictionRow[], tol: number): void {
  const st = obs.stations!
  tandemRowPair(
    obs,
    rows,
    tol,
    'batch-tandem-lone-client',
    'S_main at 1 client',
    st.mainServiceS,
    st.delayS,
    (x) =>
      `measured throughput ${fmt(x)}/s is above the main thread's capacity 1/S_main = ${fmt(1 / st.mainServiceS)}/s: per-request main-thread time at this load is below its low-load value, so the latency is overstated`,
  )
  const xo = obs.otherMaxThroughput
  if (xo !== undefined && xo > 0 && 1 / xo < st.mainServiceS) {
    tandemRowPair(
      obs,
      rows,
      tol,
      'batch-tandem-others',
      'S_main = 1/X of others',
      1 / xo,
      st.delayS + st.mainServiceS - 1 / xo,
      (x) =>
        `measured throughput ${fmt(x)}/s is above every other point's (${fmt(xo)}/s): the demand bound 1/X taken from them is not tight here, so the latency is overstated`,
    )
  }
}

function tandemRowPair(
  obs: PointObservation,
  rows: PredictionRow[],
  tol: number,
  kind: PredictionKind,
  label: string,
  mainServiceS: number,
  delayS: number,
  overCapacity: (x: number) => string,
): void {
  const b = obs.batching!
  const m = obs.measured
  const violated: string[] = []
  if (b.alpha < 0 || b.beta < 0) violated.push(`batch cost fit t(b) = α + βb has α = ${fmt(b.alpha)} s, β = ${fmt(b.beta)} s; negative values clamped to 0`)
  if (mainServiceS > 0 && m.throughput > (1 + tol) / mainServiceS) violated.push(overCapacity(m.throughput))
  const cost = {alpha: Math.max(0, b.alpha), beta: Math.max(0, b.beta)}
  const common = {...cost, mainServiceS, delayS, maxBatchSize: b.maxBatchSize, workers: obs.workers}
  const realised = obs.measuredBatchSize === undefined ? '' : ` (realised ${fmt(obs.measuredBatchSize, 3)})`
  const stations = `S_main = ${fmt(mainServiceS * 1000, 3)} ms, d = ${fmt(delayS * 1000, 3)} ms, t(b) = ${fmt(cost.alpha * 1000, 3)} + ${fmt(cost.beta * 1000, 3)}·b ms`
  const model = `batch tandem ${obs.mode === 'closed' ? 'MVA' : 'queue'} (${label})`
  try {
    if (obs.mode === 'closed') {
      const n = obs.concurrency
      if (n === undefined || !Number.isInteger(n) || n < 1) throw usageError('closed mode needs a whole number of clients N ≥ 1')
      const z = obs.thinkTimeS ?? 0
      if (b.timeoutS > 0) violated.push(`batch timeout ${fmt(b.timeoutS * 1e6)} µs not modelled in closed loop (greedy batching assumed)`)
      if (z > 0 && obs.serviceScv !== undefined && Math.abs(obs.serviceScv - 1) > 0.5)
        violated.push(`service not exponential (Cs² = ${fmt(obs.serviceScv, 3)}); MVA means are exact only for exponential FCFS service when think time > 0`)
      const r = batchTandemClosed({...common, concurrency: n, thinkTimeS: z})
      const note = `derived model: mean batch B = ${fmt(r.batchSize, 3)}${r.batchCapped ? ' (at its cap)' : ''}${realised}; main thread U = ${fmt(r.mainUtilisation, 3)}; ${stations}`
      rows.push(row(kind, model, 'throughput', r.throughput, m.throughput, violated, note))
      rows.push(row(kind, model, 'meanLatency', r.meanLatencyS, m.meanLatencyS, violated, note))
    } else {
      const lam = obs.arrivalRate
      if (lam === undefined || !(lam > 0)) throw usageError('open mode needs the arrival rate λ > 0')
      const ca2 = obs.arrivalScv ?? (obs.arrivals === 'constant' ? 0 : 1)
      if (ca2 !== 1) violated.push(`arrivals not Poisson (Ca² = ${fmt(ca2, 3)}); the batching stage assumes Poisson arrivals`)
      const r = batchTandemOpen({...common, arrivalRate: lam, timeoutS: b.timeoutS, arrivalScv: ca2})
      const note = `main thread G/G/1 (Cs² not measured: 1 assumed) at U = ${fmt(r.mainUtilisation, 3)}, then batching (${r.batching.model}, mean batch ${fmt(r.batching.meanBatchSize, 3)}${realised}): ${r.batching.notes.join('; ')}; ${stations}`
      rows.push(row(kind, model, 'throughput', r.throughput, m.throughput, violated, note))
      rows.push(row(kind, model, 'meanLatency', r.meanLatencyS, m.meanLatencyS, violated, note))
    }
  } catch (err) {
    if (!(err instanceof TfsoptError)) throw err
    rows.push(row(kind, model, 'meanLatency', null, m.meanLatencyS, [...violated, err.message]))
  }
}
