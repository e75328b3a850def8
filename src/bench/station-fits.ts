/**
 * Glue from measured points to the station model (src/queueing/station-model.ts; docs/QUEUEING.md
 * §Station model). Per server setting (group):
 *  - DECLARED calibration points: the lone client (closed loop, N = 1) and the next closed-loop point
 *    (the smallest N ≥ 2); a group with no closed-loop points uses its two lowest open-loop rates;
 *  - station demands from the second calibration point's counters: the server's main-thread event-loop
 *    busy time per request, the worker's compute (and worker-side codec) time, the generator's CPU per
 *    request; the machine's cores and the CPU of both processes per request bound the throughput;
 *  - with batching, the batch cost t(b) = α + βb is fitted on the realised (batch size, batch time)
 *    pairs of the group's OTHER points (leave-one-out: never the forecast point's own batches);
 *  - every other point's rows are forecasts: nothing measured at that point goes into them.
 */
import {errorMessage} from '../errors.js'
import {
  calibrateClosed,
  calibrateOpen,
  fitBatchCost,
  fmt,
  relativeError,
  stationClosed,
  stationOpen,
  type PredictionRow,
  type StationCalibration,
  type StationDemands,
} from '../queueing/index.js'
import type {PointResult, StationFit} from '../results/bench-run.js'

export const STATION_MODEL = 'station model'

/** Cores taken by other processes during a point above which its forecast error has a measured cause. */
export const SHARED_CPU_CORES = 0.25

const usable = (p: PointResult) => !p.failed && p.throughput > 0 && p.errors.total === 0

/** The calibration point whose counters give the demands: the next load after the lone client (or the second-lowest rate). */
function demandPoint(cal: PointResult[]): PointResult | undefined {
  return cal.find((p) => p.config.client.mode === 'closed' && p.config.client.concurrency! >= 2) ?? cal.at(-1)
}

/** The declared calibration points of a group, lowest load first. */
export function stationCalibrationPoints(group: PointResult[]): PointResult[] {
  const closed = group.filter((p) => usable(p) && p.config.client.mode === 'closed').sort((a, b) => a.config.client.concurrency! - b.config.client.concurrency!)
  if (closed.length) {
    const lone = closed.find((p) => p.config.client.concurrency === 1)
    const loaded = closed.find((p) => p.config.client.concurrency! >= 2)
    // The highest load calibrates the capacity (docs/QUEUEING.md §Station model).
    const high = closed.at(-1)
    return [lone, loaded, high !== loaded ? high : undefined].filter((p): p is PointResult => p !== undefined)
  }
  return group
    .filter((p) => usable(p) && p.config.client.mode === 'open')
    .sort((a, b) => a.config.client.rate! - b.config.client.rate!)
    .slice(0, 2)
}

/**
 * The worker's time per batch at a point, s: its whole event loop's busy time when the server reports it
 * (session.run, the codec, message (de)serialisation: what the worker station costs), else session.run.
 */
function workerBatchS(p: PointResult): number | undefined {
  const s = p.server
  if (!s?.batchSize) return undefined
  if (s.workerLoopMsPerRequest !== undefined) return (s.workerLoopMsPerRequest * s.batchSize) / 1000
  return s.computeMsPerBatch !== undefined ? s.computeMsPerBatch / 1000 + ((s.workerCodecMsPerRequest ?? 0) * s.batchSize) / 1000 : undefined
}

/** Batch cost t(b) from the other points' realised batches: undefined when their sizes cannot separate α and β. */
function batchCostExcept(group: PointResult[], except: PointResult | undefined): {alpha: number; beta: number} | undefined {
  const batches = group.flatMap((p) => {
    const s = p.server
    const t = workerBatchS(p)
    return p !== except && s?.batchSize && t && s.batches ? [{batchSize: s.batchSize, batchTime: t, weight: s.batches}] : []
  })
  if (new Set(batches.map((b) => b.batchSize.toFixed(2))).size < 2) return undefined
  try {
    const f = fitBatchCost(batches)
    return {alpha: Math.max(0, f.alpha), beta: Math.max(0, f.beta)}
  } catch {
    return undefined
  }
}

/**
 * The main thread's demand per request as m_req + m_batch/B (HTTP and JSON per request; dispatch and the
 * result message per batch), weighted least squares on the other points' (1/B, busy time per request).
 * Lone-client points are left out: their busy time includes the wake-up work (station-model.ts).
 */
function mainCostExcept(group: PointResult[], except: PointResult | undefined): {perRequest: number; perBatch: number} | undefined {
  const xs = group.flatMap((p) => {
    const s = p.server
    const lone = p.config.client.mode === 'closed' && p.config.client.concurrency === 1
    return p !== except && !lone && usable(p) && s?.batchSize && s.mainBusyMsPerRequest !== undefined && s.batches
      ? [{x: 1 / s.batchSize, y: s.mainBusyMsPerRequest / 1000, w: s.batches}]
      : []
  })
  if (new Set(xs.map((v) => v.x.toFixed(3))).size < 2) return undefined
  const W = xs.reduce((a, v) => a + v.w, 0)
  const mx = xs.reduce((a, v) => a + v.w * v.x, 0) / W
  const my = xs.reduce((a, v) => a + v.w * v.y, 0) / W
  const sxx = xs.reduce((a, v) => a + v.w * (v.x - mx) ** 2, 0)
  const slope = xs.reduce((a, v) => a + v.w * (v.x - mx) * (v.y - my), 0) / sxx
  const perBatch = Math.max(0, slope)
  return {perRequest: Math.max(0, perBatch === slope ? my - slope * mx : my), perBatch}
}

/** Demands from the loaded calibration point's counters; undefined (with why) when the server does not expose them. */
function demandsOf(at: PointResult, p: PointResult, group: PointResult[], cores: number, workers: number): StationDemands | string {
  const s = at.server
  if (s?.mainBusyMsPerRequest === undefined)
    return 'the server exposes no busy-time metrics (tfsopt_main_thread_busy_seconds_total): station demands cannot be measured'
  if (s.computeMsPerBatch === undefined || !s.batchSize) return 'the server exposes no compute-time metrics: the worker demand cannot be measured'
  const maxB = p.config.server.maxBatchSize ?? 1
  let cost = {alpha: 0, beta: (workerBatchS(at) ?? 0) / s.batchSize}
  let main = {mainS: s.mainBusyMsPerRequest / 1000, mainPerBatchS: 0}
  if (maxB > 1) {
    const fit = batchCostExcept(group, p)
    if (fit) cost = fit
    const m = mainCostExcept(group, p)
    if (m) main = {mainS: m.perRequest, mainPerBatchS: m.perBatch}
  }
  // Server and generator CPU per request bound the throughput by the machine's cores; with batching the
  // CPU per request falls as batches grow, so one point's figure would understate capacity: no bound.
  const cpu =
    maxB <= 1 && at.clientCpuCores !== undefined && at.serverCpuCores !== undefined ? (at.clientCpuCores + at.serverCpuCores) / at.throughput : undefined
  return {
    ...(cpu !== undefined ? {cpuPerRequestS: cpu, cores} : {}),
    generatorS: at.clientCpuCores !== undefined ? at.clientCpuCores / at.throughput : 0,
    ...main,
    workers,
    ...cost,
    maxBatchSize: maxB,
    timeoutS: (p.config.server.batchTimeoutMicros ?? 0) / 1e6,
  }
}

function calibrate(demands: StationDemands, cal: PointResult[]): StationCalibration & {notes: string[]} {
  const c0 = cal[0]!
  if (c0.config.client.mode === 'open')
    return calibrateOpen(
      demands,
      cal.map((p) => ({arrivalRate: p.config.client.rate!, meanLatencyS: p.latency.meanMs / 1000})),
      c0.config.client.arrival === 'constant' ? 0 : 1,
    )
  const asPoint = (p: PointResult) => ({concurrency: p.config.client.concurrency!, throughput: p.throughput, meanLatencyS: p.latency.meanMs / 1000})
  const loaded = cal.find((p) => p.config.client.concurrency! >= 2)
  const lone = cal.find((p) => p.config.client.concurrency === 1)
  const high = cal.length === 3 || (!lone && cal.length === 2) ? cal.at(-1) : undefined
  // Only a lone client: it is both; its wake-up cost then cannot be told from the delay (w = 0).
  return calibrateClosed(demands, asPoint(loaded ?? lone!), loaded && lone ? asPoint(lone) : undefined, high && high !== loaded ? asPoint(high) : undefined)
}

/** The station model's fit for a group (recorded in run.fits), calibrated with the t(b) of all its points. */
export function stationFit(group: PointResult[], cores: number, workers: number): StationFit | undefined {
  // Several replicas behind a balancer: the cluster models apply (cluster.ts), not one server's stations.
  if ((group[0]?.config.server.replicas ?? 1) > 1) return undefined
  const cal = stationCalibrationPoints(group)
  const at = demandPoint(cal)
  if (!at) return undefined
  const d = demandsOf(at, at, group.length > 1 ? group : [], cores, workers)
  const calibrationIds = cal.map((p) => p.id)
  if (typeof d === 'string') return {calibrationIds, note: d}
  try {
    const c = calibrate(d, cal)
    return {
      calibrationIds,
      workers,
      maxBatchSize: c.maxBatchSize,
      batchTimeoutMs: c.timeoutS * 1000,
      generatorMs: c.generatorS * 1000,
      mainMs: c.mainS * 1000,
      mainPerBatchMs: (c.mainPerBatchS ?? 0) * 1000,
      alphaMs: c.alpha * 1000,
      betaMs: c.beta * 1000,
      delayMs: c.delayS * 1000,
      gapMs: c.gapS * 1000,
      wakeMs: c.wakeS * 1000,
      ...(c.capacity !== undefined ? {capacity: c.capacity} : {}),
      ...(c.cpuPerRequestS !== undefined ? {cpuPerRequestMs: c.cpuPerRequestS * 1000, cores: c.cores} : {}),
      ...(c.notes.length ? {note: c.notes.join('; ')} : {}),
    }
  } catch (err) {
    return {calibrationIds, note: errorMessage(err)}
  }
}

/**
 * The station model's rows for one point: throughput and mean latency. A calibration point's rows restate
 * it (note says so); every other point's are forecasts, with t(b) fitted without the point.
 */
export function stationRows(p: PointResult, group: PointResult[], cores: number, workers: number): PredictionRow[] {
  if (p.failed || !(p.throughput > 0) || (p.config.server.replicas ?? 1) > 1) return []
  const cal = stationCalibrationPoints(group)
  const at = demandPoint(cal)
  if (!at) return []
  const isCal = cal.includes(p)
  const measuredX = p.throughput
  const measuredR = p.latency.meanMs / 1000
  const fail = (why: string): PredictionRow[] => [
    {
      kind: 'station-model',
      model: STATION_MODEL,
      quantity: 'meanLatency',
      unit: 's',
      predicted: null,
      measured: measuredR,
      relErr: null,
      assumptionsViolated: [why],
    },
  ]
  const d = demandsOf(at, p, group, cores, workers)
  if (typeof d === 'string') return fail(d)
  try {
    const c = calibrate(d, cal)
    const client = p.config.client
    const f = client.mode === 'closed' ? stationClosed(c, client.concurrency!) : stationOpen(c, client.rate!, client.arrival === 'constant' ? 0 : 1)
    const violated: string[] = []
    if (client.mode === 'closed' && f.batchSize > 1 && (p.config.server.batchTimeoutMicros ?? 0) > 0)
      violated.push('batch timeout not modelled in closed loop (greedy batching assumed)')
    const other = p.otherCpuCores ?? 0
    const otherAtCal = at.otherCpuCores ?? 0
    if (!isCal && Math.abs(other - otherAtCal) > SHARED_CPU_CORES)
      violated.push(
        `shared machine: other processes used ${fmt(other, 2)} cores during this point and ${fmt(otherAtCal, 2)} during calibration, so it had ${other > otherAtCal ? 'less' : 'more'} CPU than the model assumes`,
      )
    const role = isCal ? `calibration point (declared: ${cal.map((x) => x.id.match(/c=\d+|rate=[\d.]+/)?.[0] ?? x.id).join(', ')})` : 'forecast'
    const note = [
      role,
      `D_gen = ${fmt(c.generatorS * 1000, 3)} ms, D_main = ${fmt(c.mainS * 1000, 3)}${c.mainPerBatchS ? ` + ${fmt(c.mainPerBatchS * 1000, 3)}/B` : ''} ms, t(b) = ${fmt(c.alpha * 1000, 3)} + ${fmt(c.beta * 1000, 3)}·b ms, d = ${fmt(c.delayS * 1000, 3)} ms, Z = ${fmt(c.gapS * 1000, 3)} ms, w = ${fmt(c.wakeS * 1000, 3)} ms${c.capacity !== undefined ? `, capacity ${fmt(c.capacity)}/s (highest load)` : ''}`,
      `U_main = ${fmt(f.mainUtilisation, 3)}, U_workers = ${fmt(f.workerUtilisation, 3)}, U_gen = ${fmt(f.generatorUtilisation, 3)}${f.batchSize > 1 ? `, mean batch ${fmt(f.batchSize, 3)}` : ''}${f.cpuBound ? '; at capacity' : ''}`,
      ...c.notes,
    ].join('; ')
    const row = (quantity: 'throughput' | 'meanLatency', predicted: number, measured: number): PredictionRow => ({
      kind: 'station-model',
      model: STATION_MODEL,
      quantity,
      unit: quantity === 'throughput' ? 'req/s' : 's',
      predicted,
      measured,
      relErr: relativeError(predicted, measured),
      assumptionsViolated: violated,
      note,
      calibration: isCal,
    })
    return [row('throughput', f.throughput, measuredX), row('meanLatency', f.meanLatencyS, measuredR)]
  } catch (err) {
    return fail(errorMessage(err))
  }
}

/**
 * A forecast at an unmeasured closed-loop load from the points measured so far (their declared
 * calibration points), for the adaptive search: undefined until there are a lone client and a loaded
 * point with busy-time counters.
 */
export function stationForecastAt(
  points: PointResult[],
  concurrency: number,
  cores: number,
  workers: number,
): {throughput: number; meanMs: number} | undefined {
  const cal = stationCalibrationPoints(points)
  const at = demandPoint(cal)
  if (!at || cal.length < 2 || at.config.client.mode !== 'closed') return undefined
  const probe = {...at, id: '\0forecast', config: {...at.config, client: {...at.config.client, concurrency}}} as PointResult
  const d = demandsOf(at, probe, points, cores, workers)
  if (typeof d === 'string') return undefined
  try {
    const f = stationClosed(calibrate(d, cal), concurrency)
    return {throughput: f.throughput, meanMs: f.meanLatencyS * 1000}
  } catch {
    return undefined
  }
}

/**
 * The knee the adaptive search refines toward: the smallest load whose forecast reaches 95% of the
 * forecast at the top of the list (the station model), undefined when it cannot be calibrated yet.
 */
export function stationKnee(points: PointResult[], loads: number[], cores: number, workers: number): number | undefined {
  const top = Math.max(...loads)
  const xTop = stationForecastAt(points, top, cores, workers)?.throughput
  if (xTop === undefined) return undefined
  for (let n = 1; n <= top; n = n < 16 ? n + 1 : Math.ceil(n * 1.1)) {
    const x = stationForecastAt(points, n, cores, workers)?.throughput
    if (x !== undefined && x >= 0.95 * xTop) return n
  }
  return top
}
