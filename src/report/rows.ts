/**
 * The flat per-point row every tabular report (table, CSV, Markdown) prints, so the three agree.
 */
import type {BenchRun, PointResult} from '../results/bench-run.js'
import {mainPrediction} from '../results/main-prediction.js'

export {mainPrediction}

export interface Row {
  id: string
  model: string
  server: string
  load: string
  clientBatch: number
  repeatRatio: number
  protocol: string
  throughput: number
  inferencesPerSec: number
  meanMs: number
  p50Ms: number
  p90Ms: number
  p95Ms: number
  p99Ms: number
  p999Ms: number
  p99Spread: string
  errors: number
  stable: boolean
  failed: string
  queueMs?: number
  computeMs?: number
  batchSize?: number
  cacheHitRatio?: number
  clientCpu?: number
  serverCpu?: number
  /** Best queueing prediction of the mean latency for this point: "model: predicted (relErr)". */
  predictedMeanMs?: number
  predictedBy?: string
  relErr?: number
  /** The same model's throughput forecast and its relative error (absent where it predicts none). */
  predictedThroughput?: number
  throughputRelErr?: number
  /** Half-widths of the 95% intervals (point.ci) as fractions of throughput and mean latency. */
  throughputCi?: number
  meanCi?: number
  /** Cores other processes took during the point (shared machine), from /proc/stat. */
  otherCpu?: number
  /** The shown prediction restates this point (it was calibrated on it): no error to show. */
  calibration: boolean
  violated: string
  pareto: boolean
  recommended: boolean
  /** Behind a balancer (bench --replicas): absent for a single-server point. */
  cluster?: ClusterCells
}

/** The cluster columns, shown only when a run has cluster points. */
export interface ClusterCells {
  /** "2× least-conn (nginx)". */
  label: string
  /** Requests each replica answered, "150/144". */
  perReplica: string
  imbalance?: number
  /** The balancer hop's median added latency (GET /healthz one at a time before the point), ms. */
  addedMs?: number
  /** The same, measured while the point's load ran, ms. */
  addedAtLoadMs?: number
  regime: string
  /** The policy's cluster model beside the measurement: "p99 12.3 ms vs 11.0 (+12%)" or "req/s 200 vs 196 (−2%)". */
  prediction: string
}

export const hasCluster = (run: BenchRun): boolean => run.points.some((p) => p.cluster)

function clusterCells(p: PointResult): ClusterCells | undefined {
  const c = p.cluster
  if (!c) return undefined
  const q = c.prediction
  const err = q?.relErr != null ? ` (${q.relErr >= 0 ? '+' : '−'}${Math.abs(q.relErr * 100).toFixed(0)}%)` : ''
  const prediction = !q
    ? '–'
    : q.metric === 'p99Ms'
      ? `p99 ${q.predicted.toFixed(1)} ms vs ${q.measured.toFixed(1)}${err}`
      : `${q.predicted.toFixed(0)} req/s vs ${q.measured.toFixed(0)}${err}`
  return {
    label: `${c.replicas}× ${c.lb} (${c.balancer})`,
    perReplica: c.perReplicaRequests.join('/'),
    imbalance: c.imbalance ?? undefined,
    addedMs: c.addedLatencyMs ?? undefined,
    addedAtLoadMs: c.addedLatencyAtLoadMs ?? undefined,
    regime: c.regime,
    prediction: q ? `${prediction}, ${q.method}` : prediction,
  }
}

export const serverLabel = (p: PointResult): string => {
  const s = p.config.server
  const parts: string[] = []
  if (s.workers !== undefined) parts.push(`w${s.workers}`)
  if (s.intraOpThreads !== undefined) parts.push(`t${s.intraOpThreads}`)
  if (s.maxBatchSize !== undefined) parts.push(`b${s.maxBatchSize}`)
  if (s.batchTimeoutMicros !== undefined) parts.push(`${s.batchTimeoutMicros}µs`)
  if (s.cacheSize !== undefined) parts.push(`cache${s.cacheSize}`)
  if (s.extraFlags?.length) parts.push(s.extraFlags.join(' '))
  if (s.replicas !== undefined) parts.push(`${s.replicas}× ${s.lb ?? 'round-robin'}`)
  return parts.join(' ') || 'default'
}

export const loadLabel = (p: PointResult): string => {
  const c = p.config.client
  const load = c.mode === 'closed' ? `c=${c.concurrency}` : `${c.rate}/s ${c.arrival === 'constant' ? 'const' : 'poisson'}`
  return c.protocol ? `${c.protocol} ${load}` : load
}

const spreadLabel = (sp: {min: number; max: number} | null | undefined): string => (sp ? `${sp.min.toFixed(2)}–${sp.max.toFixed(2)}` : '')

export function toRows(run: BenchRun): Row[] {
  const pareto = new Set(run.pareto ?? [])
  const rec = run.recommendation?.pointId
  return run.points.map((p) => {
    const s = p.server ?? {}
    const q = mainPrediction(p)
    // What the shown model assumes and this point violates (every model's list is in the JSON's queueing rows).
    const shown = q ? (p.queueing ?? []).filter((r) => r.model === q.model) : (p.queueing ?? [])
    const violated = new Set(shown.flatMap((r) => r.assumptionsViolated))
    const qx = q ? (p.queueing ?? []).find((r) => r.model === q.model && r.quantity === 'throughput' && r.predicted !== null) : undefined
    const half = (iv: [number, number] | undefined, mid: number) => (iv && mid > 0 ? (iv[1] - iv[0]) / 2 / mid : undefined)
    return {
      id: p.id,
      model: p.config.model ?? run.model.name,
      server: serverLabel(p),
      load: loadLabel(p),
      clientBatch: p.config.client.clientBatch,
      repeatRatio: p.config.client.repeatRatio,
      protocol: p.config.client.protocol ?? 'tfs-rest',
      throughput: p.throughput,
      inferencesPerSec: p.inferencesPerSec,
      meanMs: p.latency.meanMs,
      p50Ms: p.latency.p50Ms,
      p90Ms: p.latency.p90Ms,
      p95Ms: p.latency.p95Ms,
      p99Ms: p.latency.p99Ms,
      p999Ms: p.latency.p999Ms,
      p99Spread: spreadLabel(p.spread?.p99Ms),
      errors: p.errors.total,
      stable: p.stable,
      failed: p.failed ?? '',
      queueMs: s.queueMs,
      computeMs: s.computeMsPerBatch,
      batchSize: s.batchSize,
      cacheHitRatio: s.cacheHitRatio,
      clientCpu: p.clientCpuCores,
      serverCpu: p.serverCpuCores ?? s.cpuCores,
      predictedMeanMs: q?.predicted != null ? q.predicted * 1000 : undefined,
      predictedBy: q?.model,
      // A calibration point's "error" is its own input restated (0%): shown as such, not as accuracy.
      relErr: p.prediction?.calibration ? undefined : (q?.relErr ?? undefined),
      calibration: p.prediction?.calibration ?? false,
      predictedThroughput: qx?.predicted ?? undefined,
      throughputRelErr: p.prediction?.calibration ? undefined : (qx?.relErr ?? undefined),
      throughputCi: half(p.ci?.throughput, p.throughput),
      meanCi: half(p.ci?.meanMs, p.latency.meanMs),
      otherCpu: p.otherCpuCores,
      violated: [...violated].join('; '),
      pareto: pareto.has(p.id),
      recommended: rec === p.id,
      cluster: clusterCells(p),
    }
  })
}
