/**
 * Glue from measured points to src/queueing (no maths here): per server configuration, take E[S] and
 * Cs² from the concurrency-1 point (service seen by a lone client: network + JSON + inference), the
 * same point's split into main-thread time and outside delay (for the batch tandem), the batch cost
 * t(b) = α + βb from the server's realised batch sizes and compute times, the USL from the closed-loop
 * points, and ask predictPoint for each point's rows (predicted, measured, relErr,
 * violated assumptions).
 */
import {
  articleCacheForm,
  cacheLatency,
  fitBatchCost,
  fitUsl,
  predictPoint,
  USL_MIN_POINTS,
  asymptoticBounds,
  uslThroughput,
  type PredictionRow,
} from '../queueing/index.js'
import {errorMessage} from '../errors.js'
import type {GroupFits, PointResult} from '../results/bench-run.js'

export type {GroupFits}

export const serverKeyOf = (p: PointResult) => {
  const c = p.config.client
  const key: unknown[] = [p.config.model, p.config.server, c.clientBatch, c.repeatRatio]
  if (c.protocol) key.push(c.protocol)
  return JSON.stringify(key)
}

/** The USL's X(N) at N = 1, 2, …, 8 then every 25%, and at the largest measured N: enough points for a smooth chart. */
function uslCurve(f: Parameters<typeof uslThroughput>[0], maxN: number): Array<[number, number]> {
  const curve: Array<[number, number]> = []
  for (let n = 1; n <= maxN; n = n < 8 ? n + 1 : Math.ceil(n * 1.25)) curve.push([n, uslThroughput(f, n)])
  curve.push([maxN, uslThroughput(f, maxN)])
  return curve
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
    fits.stations = stationsOf(cal)
  }
  const closed = points.filter((p) => p.config.client.mode === 'closed' && !p.failed && p.throughput > 0)
  if (closed.length >= USL_MIN_POINTS) {
    try {
      const f = fitUsl(closed.map((p) => ({concurrency: p.config.client.concurrency!, throughput: p.throughput})))
      fits.usl = {
        sigma: f.sigma,
        kappa: f.kappa,
        lambda: f.lambda,
        nMax: f.nMax,
        xMax: f.xMax,
        peakKind: f.peakKind,
        rmse: f.rmse,
        stdErr: f.stdErr,
        contentionLimited: f.contentionLimited,
        points: closed.length,
        curve: uslCurve(f, Math.max(...closed.map((p) => p.config.client.concurrency!))),
      }
    } catch (err) {
      fits.uslNote = errorMessage(err)
    }
  } else if (closed.length) fits.uslNote = `USL not fitted: ${closed.length} closed-loop point(s), it needs at least ${USL_MIN_POINTS}`
  const batches = points.flatMap((p) => {
    const s = p.server
    return s?.batchSize && s.computeMsPerBatch && s.batches ? [{batchSize: s.batchSize, batchTime: s.computeMsPerBatch / 1000, weight: s.batches}] : []
  })
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

/**
 * The lone client's latency split as benchmarks/queueing-validation.ts splits it (docs/BENCHMARKS.md, queueing
 * validation): the server's request time minus the worker's compute and the batching queue is the main
 * thread (HTTP, JSON in and out, hand-offs to the worker); client mean minus server request time is the
 * delay outside the server (client, loopback TCP), which does not queue.
 */
function stationsOf(cal: PointResult): GroupFits['stations'] {
  const s = cal.server
  if (s?.requestMs === undefined || s.computeMsPerBatch === undefined) return undefined
  return {
    mainServiceS: Math.max(0, s.requestMs - s.computeMsPerBatch - (s.queueMs ?? 0)) / 1000,
    delayS: Math.max(0, cal.latency.meanMs - s.requestMs) / 1000,
  }
}

function otherMaxThroughput(p: PointResult, group: PointResult[]): number | undefined {
  const xs = group.filter((o) => o !== p && !o.failed && o.errors.total === 0 && o.throughput > 0).map((o) => o.throughput)
  return xs.length ? Math.max(...xs) : undefined
}

/**
 * `group`: the points of the same server setting; the highest throughput among the others (no errors)
 * bounds the main thread's demand for the batch tandem (utilisation law, leave-one-out).
 */
export function predictionsFor(p: PointResult, fits: GroupFits, group: PointResult[] = []): PredictionRow[] {
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
      batching:
        fits.batchCost && maxB && maxB > 1
          ? {alpha: fits.batchCost.alpha, beta: fits.batchCost.beta, maxBatchSize: maxB, timeoutS: (p.config.server.batchTimeoutMicros ?? 0) / 1e6}
          : undefined,
      stations: fits.stations,
      measuredBatchSize: p.server?.batchSize,
      otherMaxThroughput: otherMaxThroughput(p, group),
    })
  } catch (err) {
    return [
      {
        model: 'queueing models',
        quantity: 'meanLatency',
        unit: 's',
        predicted: null,
        measured: p.latency.meanMs / 1000,
        relErr: null,
        assumptionsViolated: [errorMessage(err)],
        kind: 'unavailable',
      },
    ]
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

/**
 * Cache model rows (queueing.md §Cache, src/queueing/cache.ts). Points that differ only in --repeat-ratio
 * (same model, server incl. --cache-size, load and client batch) form a group; the server's metrics give
 * each point's hit ratio H. The mixture E[T] = H·t_hit + (1−H)·t_miss is linear in H, so t_miss and t_hit
 * are the intercept and the value at H = 1 of a least-squares line through the group's (H, mean latency)
 * pairs. To predict rather than restate, each point's line is fitted on the OTHER points of its group
 * (leave-one-out): it needs at least two others with hit ratios at least 0.2 apart. The seed article's
 * form L(1−H) + 1/H (L = t_miss in seconds) is shown beside it, for comparison only.
 */
export function cacheRows(points: PointResult[]): Map<string, PredictionRow[]> {
  const out = new Map<string, PredictionRow[]>()
  const groups = new Map<string, Array<{p: PointResult; h: number; t: number}>>()
  for (const p of points) {
    const h = p.server?.cacheHitRatio
    if (p.failed || !p.config.server.cacheSize || h === undefined || !(p.latency.meanMs > 0)) continue
    const c = p.config.client
    const k = JSON.stringify([p.config.model, p.config.server, c.mode, c.concurrency ?? c.rate, c.arrival, c.clientBatch])
    if (!groups.has(k)) groups.set(k, [])
    groups.get(k)!.push({p, h, t: p.latency.meanMs / 1000})
  }
  for (const g of groups.values()) {
    for (const x of g) {
      const others = g.filter((y) => y !== x)
      const hs = others.map((y) => y.h)
      if (others.length < 2 || Math.max(...hs) - Math.min(...hs) < 0.2) continue
      const n = others.length
      const mh = hs.reduce((a, b) => a + b, 0) / n
      const mt = others.reduce((a, y) => a + y.t, 0) / n
      const sxx = others.reduce((a, y) => a + (y.h - mh) ** 2, 0)
      const slope = others.reduce((a, y) => a + (y.h - mh) * (y.t - mt), 0) / sxx
      const tMiss = Math.max(0, mt - slope * mh)
      const tHit = Math.max(0, tMiss + slope)
      const predicted = cacheLatency(x.h, tHit, tMiss)
      const article = x.h > 0 ? articleCacheForm(x.h, tMiss) : Infinity
      const rel = (v: number) => (Number.isFinite(v) ? (v - x.t) / x.t : null)
      const mode = x.p.config.client.mode
      const violated =
        mode === 'closed' && (x.p.config.client.concurrency ?? 1) > 1 ? ['closed loop above one client: queueing changes with H, the mixture ignores it'] : []
      const note = `H = ${x.h.toFixed(3)}; t_hit = ${(tHit * 1000).toFixed(3)} ms, t_miss = ${(tMiss * 1000).toFixed(3)} ms fitted on the ${n} other repeat ratios (leave-one-out)`
      out.set(x.p.id, [
        {
          model: 'cache mixture H·t_hit + (1−H)·t_miss',
          quantity: 'meanLatency',
          unit: 's',
          predicted,
          measured: x.t,
          relErr: rel(predicted),
          assumptionsViolated: violated,
          kind: 'cache-mixture',
          note,
        },
        {
          model: "seed article 000's cache form L(1−H) + 1/H (wrong)",
          quantity: 'meanLatency',
          unit: 's',
          predicted: Number.isFinite(article) ? article : null,
          measured: x.t,
          relErr: rel(article),
          assumptionsViolated: ['adds the unitless 1/H to seconds; grows as H falls'],
          kind: 'cache-article',
          note: `L = t_miss = ${(tMiss * 1000).toFixed(3)} ms, in seconds; shown for comparison only`,
        },
      ])
    }
  }
  return out
}
