/**
 * What-if from a saved run (`tfsopt queue forecast`): the station model's calibration of each server
 * setting (run.fits[].station, docs/QUEUEING.md §Station model) answers loads that were not measured —
 * more connections, an open-loop rate, other worker counts — and capacity questions: the highest load
 * whose forecast mean (or p99) stays under a bound, the fewest workers for a rate under a bound.
 * p99 is not modelled by the station network: it is the forecast mean times the p99/mean ratio measured
 * at the nearest measured load of the same setting and mode, and says so.
 */
import {usageError, TfsoptError} from '../errors.js'
import {stationClosed, stationOpen, type StationCalibration} from '../queueing/index.js'
import type {BenchRun, PointResult, StationFit} from '../results/bench-run.js'

export interface ForecastRow {
  load: string
  mode: 'closed' | 'open'
  concurrency?: number
  rate?: number
  workers: number
  throughput: number | null
  meanMs: number | null
  p99Ms: number | null
  /** Where the p99 ratio came from, or why there is no forecast. */
  note: string
}

export interface SettingForecast {
  serverKey: string
  calibrationIds: string[]
  rows: ForecastRow[]
  /** Answers to --max-mean-ms / --max-p99-ms / --workers-for. */
  answers: string[]
}

export interface ForecastQuery {
  concurrency: number[]
  rate: number[]
  workers?: number
  maxMeanMs?: number
  maxP99Ms?: number
  /** With maxMeanMs or maxP99Ms: the fewest workers (1..16) that carry this rate under the bound. */
  workersForRate?: number
}

/**
 * The calibration a fit records, with the setting's workers replaced by `workers`. The measured capacity
 * is dropped then (it was the other worker count's limit); the CPU per request and the machine's cores
 * are kept: a request's CPU does not depend on how many workers share it out, so cores ÷ CPU per request
 * still bounds the throughput.
 */
export function calibrationOf(f: StationFit, workers?: number): StationCalibration {
  if (f.mainMs === undefined || f.betaMs === undefined || f.delayMs === undefined || f.workers === undefined)
    throw usageError(`this setting has no station-model calibration${f.note ? `: ${f.note}` : ''}`)
  const w = workers ?? f.workers
  return {
    generatorS: (f.generatorMs ?? 0) / 1000,
    mainS: f.mainMs / 1000,
    mainPerBatchS: (f.mainPerBatchMs ?? 0) / 1000,
    workers: w,
    alpha: (f.alphaMs ?? 0) / 1000,
    beta: f.betaMs / 1000,
    maxBatchSize: f.maxBatchSize ?? 1,
    timeoutS: (f.batchTimeoutMs ?? 0) / 1000,
    delayS: f.delayMs / 1000,
    gapS: (f.gapMs ?? 0) / 1000,
    wakeS: (f.wakeMs ?? 0) / 1000,
    ...(w === f.workers && f.capacity !== undefined ? {capacity: f.capacity} : {}),
    ...(f.cpuPerRequestMs !== undefined && f.cores ? {cpuPerRequestS: f.cpuPerRequestMs / 1000, cores: f.cores} : {}),
  }
}

/** p99/mean at the measured point of the setting nearest this load (same mode). */
function p99Ratio(points: PointResult[], mode: 'closed' | 'open', load: number): {ratio: number; from: string} | undefined {
  const same = points.filter((p) => !p.failed && p.config.client.mode === mode && p.latency.meanMs > 0)
  const at = (p: PointResult) => (mode === 'closed' ? p.config.client.concurrency! : p.config.client.rate!)
  const near = same.sort((a, b) => Math.abs(Math.log(at(a) / load)) - Math.abs(Math.log(at(b) / load)))[0]
  return near ? {ratio: near.latency.p99Ms / near.latency.meanMs, from: mode === 'closed' ? `c=${at(near)}` : `${at(near)}/s`} : undefined
}

function forecastOne(cal: StationCalibration, points: PointResult[], mode: 'closed' | 'open', load: number): ForecastRow {
  const base = {mode, workers: cal.workers, ...(mode === 'closed' ? {concurrency: load} : {rate: load}), load: mode === 'closed' ? `c=${load}` : `${load}/s`}
  try {
    const f = mode === 'closed' ? stationClosed(cal, load) : stationOpen(cal, load)
    const r = p99Ratio(points, mode, load) ?? (mode === 'open' ? p99Ratio(points, 'closed', 1) : undefined)
    const meanMs = f.meanLatencyS * 1000
    return {
      ...base,
      throughput: f.throughput,
      meanMs,
      p99Ms: r ? meanMs * r.ratio : null,
      note: `${f.cpuBound ? 'at capacity; ' : ''}${r ? `p99 = mean × ${r.ratio.toFixed(2)} (p99/mean measured at ${r.from})` : 'no measured point to scale p99 from'}`,
    }
  } catch (err) {
    if (!(err instanceof TfsoptError)) throw err
    return {...base, throughput: null, meanMs: null, p99Ms: null, note: err.message}
  }
}

const within = (r: ForecastRow, q: ForecastQuery) =>
  r.meanMs !== null && (q.maxMeanMs === undefined || r.meanMs <= q.maxMeanMs) && (q.maxP99Ms === undefined || (r.p99Ms !== null && r.p99Ms <= q.maxP99Ms))

const bound = (q: ForecastQuery) =>
  [q.maxMeanMs !== undefined ? `mean ≤ ${q.maxMeanMs} ms` : '', q.maxP99Ms !== undefined ? `p99 ≤ ${q.maxP99Ms} ms` : ''].filter(Boolean).join(' and ')

export function forecastRun(run: BenchRun, q: ForecastQuery): SettingForecast[] {
  const fits = (run.fits ?? []).filter((f) => f.station)
  if (!fits.length)
    throw usageError(
      'this run has no station-model calibration (fits[].station): re-run it with this tfsopt version against the built-in server, or a server that exports busy-time metrics',
    )
  if (!q.concurrency.length && !q.rate.length && q.maxMeanMs === undefined && q.maxP99Ms === undefined)
    throw usageError('nothing to forecast: give --concurrency, --rate, --max-mean-ms or --max-p99-ms')
  const out: SettingForecast[] = []
  for (const fit of fits) {
    const st = fit.station!
    if (st.mainMs === undefined) {
      out.push({serverKey: fit.serverKey, calibrationIds: st.calibrationIds, rows: [], answers: [`not calibrated: ${st.note ?? 'no busy-time metrics'}`]})
      continue
    }
    const points = run.points.filter((p) => p.group === fit.serverKey)
    const cal = calibrationOf(st, q.workers)
    const rows = [...q.concurrency.map((n) => forecastOne(cal, points, 'closed', n)), ...q.rate.map((r) => forecastOne(cal, points, 'open', r))]
    const answers: string[] = []
    if (q.maxMeanMs !== undefined || q.maxP99Ms !== undefined) {
      // Closed loop: the highest concurrency (up to 1024) still within the bound, by doubling then bisection.
      let lo = 0
      let hi = 1
      while (hi <= 1024 && within(forecastOne(cal, points, 'closed', hi), q)) [lo, hi] = [hi, hi * 2]
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2)
        if (within(forecastOne(cal, points, 'closed', mid), q)) lo = mid
        else hi = mid
      }
      if (lo === 0) answers.push(`closed loop: even one connection is forecast above ${bound(q)}`)
      else {
        const r = forecastOne(cal, points, 'closed', lo)
        answers.push(
          `closed loop: up to ${lo}${lo >= 1024 ? '+' : ''} connections stay within ${bound(q)} (c=${lo}: ${r.throughput!.toFixed(0)} req/s, mean ${r.meanMs!.toFixed(3)} ms)`,
        )
      }
      // Open loop: the highest rate within the bound (bisection on λ below the capacity).
      const cap = stationClosed(cal, 1024).throughput
      let a = 0
      let b = cap
      for (let i = 0; i < 40; i++) {
        const m = (a + b) / 2
        if (within(forecastOne(cal, points, 'open', m), q)) a = m
        else b = m
      }
      answers.push(a > 0 ? `open loop (Poisson): up to ${a.toFixed(0)} req/s stay within ${bound(q)}` : `open loop: no rate is forecast within ${bound(q)}`)
      if (q.workersForRate !== undefined) {
        let found: number | undefined
        for (let w = 1; w <= 16 && found === undefined; w++) if (within(forecastOne(calibrationOf(st, w), points, 'open', q.workersForRate), q)) found = w
        answers.push(
          found !== undefined
            ? `${q.workersForRate} req/s within ${bound(q)}: ${found} worker${found > 1 ? 's' : ''}${found > run.machine.cores ? ` (more than this machine's ${run.machine.cores} cores: the forecast assumes each worker gets a core)` : ''}`
            : `${q.workersForRate} req/s within ${bound(q)}: not with up to 16 workers (the main thread or the generator is the bottleneck)`,
        )
      }
    }
    out.push({serverKey: fit.serverKey, calibrationIds: st.calibrationIds, rows, answers})
  }
  return out
}
