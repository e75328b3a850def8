/**
 * Glue from measured points to src/queueing (no maths here): per server configuration, take E[S] and
 * Cs² from the concurrency-1 point (service seen by a lone client: network + JSON + inference), the
 * batch cost t(b) = α + βb from the server's realised batch sizes and compute times, the USL from the
 * closed-loop points, and ask predictPoint for each point's rows (predicted, measured, relErr,
 * violated assumptions).
 */
import {fitBatchCost, fitUsl, predictPoint, USL_MIN_POINTS, asymptoticBounds, type PredictionRow, type UslFit} from '../queueing/index.js'
import {errorMessage} from '../errors.js'
import type {PointResult} from './result.js'
import type {ServerBreakdown} from './scrape-metrics.js'

export interface GroupFits {
  serverKey: string
  serviceTimeS?: number
  serviceScv?: number
  workers: number
  usl?: Pick<UslFit, 'sigma' | 'kappa' | 'lambda' | 'nMax' | 'xMax' | 'peakKind' | 'rmse' | 'stdErr' | 'contentionLimited'> & {points: number}
  uslNote?: string
  batchCost?: {alpha: number; beta: number; n: number; warnings: string[]}
}

export const serverKeyOf = (p: PointResult) => {
  const c = p.config.client
  return JSON.stringify([p.config.model, p.config.server, c.clientBatch, c.repeatRatio])
}

/** The lone-client point of a group: closed loop, concurrency 1, usable. */
export function calibrationPoint(points: PointResult[]): PointResult | undefined {
  return points.find((p) => p.config.client.mode === 'closed' && p.config.client.concurrency === 1 && !p.failed && p.throughput > 0)
}

export function fitGroup(points: PointResult[], workers: number): GroupFits {
  const fits: GroupFits = {serverKey: points[0] ? serverKeyOf(points[0]) : '', workers}
  const cal = calibrationPoint(points)
  if (cal) {
    fits.serviceTimeS = cal.latency.meanMs / 1000
    fits.serviceScv = (cal.latency.stdevMs / cal.latency.meanMs) ** 2
  }
  const closed = points.filter((p) => p.config.client.mode === 'closed' && !p.failed && p.throughput > 0)
  if (closed.length >= USL_MIN_POINTS) {
    try {
      const f = fitUsl(closed.map((p) => ({concurrency: p.config.client.concurrency!, throughput: p.throughput})))
      fits.usl = {sigma: f.sigma, kappa: f.kappa, lambda: f.lambda, nMax: f.nMax, xMax: f.xMax, peakKind: f.peakKind, rmse: f.rmse, stdErr: f.stdErr, contentionLimited: f.contentionLimited, points: closed.length}
    } catch (err) {
      fits.uslNote = errorMessage(err)
    }
  } else if (closed.length) fits.uslNote = `USL not fitted: ${closed.length} closed-loop point(s), it needs at least ${USL_MIN_POINTS}`
  const batches = points
    .map((p) => p.server as ServerBreakdown | undefined)
    .filter((s): s is ServerBreakdown => Boolean(s && s.batchSize && s.computeMsPerBatch && s.batches))
    .map((s) => ({batchSize: s.batchSize!, batchTime: s.computeMsPerBatch! / 1000, weight: s.batches}))
  if (new Set(batches.map((b) => b.batchSize.toFixed(2))).size >= 2) {
    try {
      const f = fitBatchCost(batches)
      fits.batchCost = {alpha: f.alpha, beta: f.beta, n: f.n, warnings: f.warnings}
    } catch {
      /* sizes too close to separate α and β: leave unfitted */
    }
  }
  return fits
}

export function predictionsFor(p: PointResult, fits: GroupFits): PredictionRow[] {
  if (p.failed || !(p.throughput > 0) || fits.serviceTimeS === undefined) return []
  const c = p.config.client
  const maxB = p.config.server.maxBatchSize
  try {
    return predictPoint({
      mode: c.mode,
      concurrency: c.concurrency,
      arrivalRate: c.rate,
      arrivals: c.arrival,
      workers: fits.workers,
      serviceTimeS: fits.serviceTimeS,
      serviceScv: fits.serviceScv,
      measured: {throughput: p.throughput, meanLatencyS: p.latency.meanMs / 1000, p50LatencyS: p.latency.p50Ms / 1000, p99LatencyS: p.latency.p99Ms / 1000},
      batching: fits.batchCost && maxB && maxB > 1 ? {alpha: fits.batchCost.alpha, beta: fits.batchCost.beta, maxBatchSize: maxB, timeoutS: (p.config.server.batchTimeoutMicros ?? 0) / 1e6} : undefined,
    })
  } catch (err) {
    return [{model: 'queueing models', quantity: 'meanLatency', unit: 's', predicted: null, measured: p.latency.meanMs / 1000, relErr: null, assumptionsViolated: [errorMessage(err)]}]
  }
}

/**
 * Where the knee of a closed-loop curve should be, for the adaptive search: the USL peak when it can be
 * fitted, else the asymptotic-bounds knee N* = D/D_max with D = R(1) and D_max = 1/X_max measured.
 */
export function predictedKnee(points: Array<{load: number; throughput: number; meanMs: number}>): number | undefined {
  const ok = points.filter((p) => p.throughput > 0)
  if (ok.length >= USL_MIN_POINTS) {
    try {
      const f = fitUsl(ok.map((p) => ({concurrency: p.load, throughput: p.throughput})))
      if (f.nPeak) return f.nPeak
    } catch {
      /* fall through to the bounds */
    }
  }
  const one = ok.find((p) => p.load === 1)
  if (!one) return undefined
  const xMax = Math.max(...ok.map((p) => p.throughput))
  return asymptoticBounds({concurrency: 1, demand: one.meanMs / 1000, bottleneckDemand: 1 / xMax}).kneeConcurrency
}
