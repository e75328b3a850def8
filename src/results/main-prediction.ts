/**
 * Which queueing prediction a point shows (tables, charts and the JSON's per-point `prediction`), and
 * whether that prediction is a forecast or the point it was calibrated on restated.
 */
import type {PointPrediction, PointResult, PredictionRow} from './bench-run.js'

/**
 * The mean-latency prediction to show: the first model whose assumptions hold, else the first. A
 * closed-loop point with server batching on (max batch size > 1) shows the batch tandem MVA instead,
 * violated assumptions or not — calibrated from the other points' throughput when there is such a row,
 * else from the lone client. Measured on the MNIST MLP at max batch 32 (docs/BENCHMARKS.md, "Batched
 * points: tandem prediction vs measured"), 25 points at 2–32 clients: median |error| 23% and 97% for the
 * two, 242% for the one-station MVA, which they beat at 22 and 24 of the 25 points. Open-loop points keep
 * the first choice (there the tandem was not closer than M/M/c), and a cache mixture keeps precedence.
 */
export function mainPrediction(p: PointResult): PredictionRow | undefined {
  const rows = (p.queueing ?? []).filter((r) => r.quantity === 'meanLatency' && r.predicted !== null)
  // The station model when it could be calibrated (server busy-time counters; docs/QUEUEING.md), except
  // where a cache mixture applies (it models the hit ratio, which the stations do not).
  // A multi-worker setting forecast from the 1-worker calibration first (worker-scaling.ts: nothing
  // measured with its own workers goes into it) where the machine has a core per busy thread; where it
  // has not, the setting's own calibration (the run's warnings say so).
  const station = rows.find((r) => r.kind === 'station-model-workers' && !r.assumptionsViolated.length) ?? rows.find((r) => r.kind === 'station-model')
  if (station && !rows.some((r) => r.kind === 'cache-mixture')) return station
  const batchedClosed = p.config.client.mode === 'closed' && (p.config.server.maxBatchSize ?? 1) > 1 && !rows.some((r) => r.kind === 'cache-mixture')
  const tandem = batchedClosed ? (rows.find((r) => r.kind === 'batch-tandem-others') ?? rows.find((r) => r.kind === 'batch-tandem-lone-client')) : undefined
  return tandem ?? rows.find((r) => !r.assumptionsViolated.length) ?? rows[0]
}

/** Rows calibrated leave-one-out (fitted on the other points): never restate the point itself. */
const LEAVE_ONE_OUT = new Set(['cache-mixture', 'cache-article'])

/**
 * The shown prediction as one summary: its model, mean latency and (where the same model predicts it)
 * throughput, and `calibration: true` on a point the model was calibrated from — the lone client whose
 * mean latency is E[S] for the MVA, M/M/c and tandem rows — where the "prediction" restates the input.
 */
export function pointPrediction(p: PointResult, calibrationId: string | undefined): PointPrediction | undefined {
  const row = mainPrediction(p)
  if (!row || row.predicted === null) return undefined
  const x = (p.queueing ?? []).find((r) => r.model === row.model && r.quantity === 'throughput' && r.predicted !== null)
  return {
    model: row.model,
    meanMs: row.predicted * 1000,
    throughput: x?.predicted ?? null,
    calibration: row.calibration ?? (p.id === calibrationId && !LEAVE_ONE_OUT.has(row.kind ?? '')),
  }
}
