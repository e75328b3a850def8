/**
 * After measuring: each point's group key, queueing fits (with the USL curve) and per-point predictions
 * (src/queueing via models.ts), the Pareto front, the recommendation and the run-level warnings, added
 * to the BenchRun in place — so reports only render what is stored here.
 */
import {cacheRows, calibrationPoint, fitGroup, predictionsFor, serverKeyOf, type GroupFits} from './models.js'
import {pointPrediction} from '../results/main-prediction.js'
import {paretoFront} from './pareto.js'
import {stationFit, stationRows} from './station-fits.js'
import {recommend} from './recommend.js'
import {coreShortfall, FROM_ONE_WORKER, fromOneWorkerRows, oneWorkerKey} from './worker-scaling.js'
import type {BenchRun, PointResult} from '../results/bench-run.js'

export function finalizeRun(run: BenchRun, o: {sloP99Ms?: number; modelArg: string; cores: number; workersOf: (p: PointResult) => number}): void {
  const groups = new Map<string, PointResult[]>()
  for (const p of run.points) {
    const k = serverKeyOf(p)
    p.group = k
    if (!groups.has(k)) groups.set(k, [])
    groups.get(k)!.push(p)
  }
  const fits: GroupFits[] = []
  for (const pts of groups.values()) {
    const workers = o.workersOf(pts[0]!)
    const f = fitGroup(pts, workers)
    const st = stationFit(pts, o.cores, workers)
    if (st) f.station = st
    fits.push(f)
    for (const p of pts) p.queueing = [...stationRows(p, pts, o.cores, workers), ...predictionsFor(p, f, pts)]
  }
  run.fits = fits
  // Multi-worker settings, forecast from the same setting's 1-worker calibration (worker-scaling.ts). The
  // tables show it where the machine has a core per busy thread (main-prediction.ts); elsewhere a warning says why not.
  const crossWarnings: string[] = []
  for (const pts of groups.values()) {
    const key = pts[0] && oneWorkerKey(pts[0])
    const one = key !== undefined ? fits.find((f) => f.serverKey === key)?.station : undefined
    if (one?.mainMs === undefined) continue
    for (const p of pts) p.queueing = [...fromOneWorkerRows(p, one, o.cores, run.target.builtIn), ...(p.queueing ?? [])]
    const short = coreShortfall(pts[0]!.config.server.workers!, pts[0]!.config.server.intraOpThreads, o.cores, run.target.builtIn)
    if (short)
      crossWarnings.push(
        `--workers ${pts[0]!.config.server.workers}: ${short}. Its points show the station model calibrated on their own points; the forecast from the 1-worker calibration is in the JSON (queueing rows "${FROM_ONE_WORKER}") with its error`,
      )
  }
  for (const [id, rows] of cacheRows(run.points)) {
    const p = run.points.find((x) => x.id === id)
    // First, so the tables show the cache mixture as this point's prediction (the article's form is flagged, never chosen).
    if (p) p.queueing = [...rows, ...(p.queueing ?? [])]
  }
  for (const pts of groups.values()) {
    const cal = calibrationPoint(pts)?.id
    for (const p of pts) {
      const pred = pointPrediction(p, cal)
      if (pred) p.prediction = pred
    }
  }
  const usable = run.points.filter((p) => !p.failed && p.errors.total === 0 && Number.isFinite(p.latency.p99Ms))
  run.pareto = paretoFront(usable.map((p) => ({id: p.id, throughput: p.inferencesPerSec, p99Ms: p.latency.p99Ms}))).map((p) => p.id)
  const rec = recommend(run.points, {sloP99Ms: o.sloP99Ms, modelArg: o.modelArg, cores: o.cores})
  run.recommendation = rec ?? null
  const warnings = [...(run.warnings ?? []), ...crossWarnings]
  const unstable = run.points.filter((p) => !p.stable && !p.failed).length
  if (unstable) warnings.push(`${unstable} point(s) did not stabilise within the trial limit (marked unstable; their numbers are less trustworthy)`)
  const flagged = run.points.filter((p) => p.errors.total > 0 && !p.failed).length
  if (flagged) warnings.push(`${flagged} point(s) had request errors (flagged; excluded from the recommendation)`)
  const failed = run.points.filter((p) => p.failed).length
  if (failed) warnings.push(`${failed} point(s) failed`)
  if (!rec) warnings.push(o.sloP99Ms !== undefined ? `no configuration met p99 ≤ ${o.sloP99Ms} ms without errors` : 'no configuration completed without errors')
  if (o.cores <= 2 && run.target.builtIn)
    warnings.push(
      `this machine has ${o.cores} cores: the load generator and the server share them, so absolute numbers are lower than on a dedicated server and client`,
    )
  run.warnings = warnings
  run.measuringTimeS = run.points.reduce((s, p) => s + (p.measuredS ?? 0), 0)
}
