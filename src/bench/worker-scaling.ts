/**
 * Multi-worker settings forecast from the 1-worker setting's station calibration (issue 13, must-have 3):
 * with `--workers 1,2` the 2-worker points get a row made from nothing measured with 2 workers — the
 * 1-worker setting's demands (main thread, t(b), generator, delay, gap, wake-up) with c = 2 worker
 * servers, and the machine's cores ÷ the CPU per request as the throughput bound. Where the threads that
 * would be busy (the main thread, workers × intra-op threads, and the load generator on the same machine)
 * outnumber the cores, the workers do not each get a core and the 1-worker demands understate a request's
 * CPU: the row says so (with the CPU per request measured at the point), and the tables show the
 * setting's own calibration instead (main-prediction.ts).
 */
import {TfsoptError, errorMessage} from '../errors.js'
import {fmt, relativeError, stationClosed, stationOpen, type PredictionRow} from '../queueing/index.js'
import type {PointResult, StationFit} from '../results/bench-run.js'
import {calibrationOf} from './forecast.js'
import {serverKeyOf} from './models.js'
import {defaultThreads} from '../server/default-threads.js'

export const FROM_ONE_WORKER = 'station model (from 1 worker)'

/** The group key of the same setting with one worker; undefined when the point's setting names no worker count or has one. */
export function oneWorkerKey(p: PointResult): string | undefined {
  const w = p.config.server.workers
  if (w === undefined || w <= 1 || (p.config.server.replicas ?? 1) > 1) return undefined
  return serverKeyOf({...p, config: {...p.config, server: {...p.config.server, workers: 1}}})
}

/**
 * Threads that would be busy at once, against the cores: undefined when each has a core. intra-op
 * threads default as `tfsopt serve` chooses them (defaultThreads).
 */
export function coreShortfall(workers: number, intraOpThreads: number | undefined, cores: number, generatorHere: boolean): string | undefined {
  const intra = defaultThreads(workers, intraOpThreads, false, cores).intraOpThreads
  const busy = 1 + workers * intra + (generatorHere ? 1 : 0)
  if (busy <= cores) return undefined
  return `this machine has ${cores} cores for ${busy} busy threads (the main thread, ${workers} workers × ${intra} intra-op thread${intra > 1 ? 's' : ''}${generatorHere ? ', the load generator' : ''}): the workers share cores, and a request may cost more CPU than it did with 1 worker`
}

/** The forecast rows (throughput, mean latency) for one point of a multi-worker setting, from the 1-worker fit. */
export function fromOneWorkerRows(p: PointResult, one: StationFit, cores: number, generatorHere: boolean): PredictionRow[] {
  const workers = p.config.server.workers!
  const client = p.config.client
  const measuredX = p.throughput
  const measuredR = p.latency.meanMs / 1000
  const short = coreShortfall(workers, p.config.server.intraOpThreads, cores, generatorHere)
  const violated: string[] = []
  if (short) {
    // What sharing the cores cost, measured at this point (after the fact: nothing here enters the forecast).
    const cpuHere =
      p.clientCpuCores !== undefined && p.serverCpuCores !== undefined && p.throughput > 0
        ? ((p.clientCpuCores + p.serverCpuCores) / p.throughput) * 1000
        : undefined
    violated.push(
      cpuHere !== undefined && one.cpuPerRequestMs !== undefined
        ? `${short}; measured here: ${fmt(cpuHere, 3)} ms of CPU per request against ${fmt(one.cpuPerRequestMs, 3)} ms with 1 worker`
        : short,
    )
  }
  const base = {kind: 'station-model-workers' as const, model: FROM_ONE_WORKER, assumptionsViolated: violated, calibration: false}
  try {
    const cal = calibrationOf(one, workers)
    const f = client.mode === 'closed' ? stationClosed(cal, client.concurrency!) : stationOpen(cal, client.rate!, client.arrival === 'constant' ? 0 : 1)
    const note = [
      `forecast for ${workers} workers from the 1-worker setting's calibration (${one.calibrationIds.join(', ')}); no point with ${workers} workers used`,
      `U_main = ${fmt(f.mainUtilisation, 3)}, U_workers = ${fmt(f.workerUtilisation, 3)}${f.cpuBound ? '; at the cores bound' : ''}`,
    ].join('; ')
    return [
      {...base, quantity: 'throughput', unit: 'req/s', predicted: f.throughput, measured: measuredX, relErr: relativeError(f.throughput, measuredX), note},
      {...base, quantity: 'meanLatency', unit: 's', predicted: f.meanLatencyS, measured: measuredR, relErr: relativeError(f.meanLatencyS, measuredR), note},
    ]
  } catch (err) {
    if (!(err instanceof TfsoptError)) throw err
    return [
      {...base, quantity: 'meanLatency', unit: 's', predicted: null, measured: measuredR, relErr: null, assumptionsViolated: [...violated, errorMessage(err)]},
    ]
  }
}
