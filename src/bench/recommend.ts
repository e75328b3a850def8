/**
 * The recommendation: the highest-throughput configuration whose p99 meets the SLO with no errors
 * (stable points first: an unstable point's numbers are not trusted). Rendered as `tfsopt serve` flags
 * and as TF Serving's batching_parameters.txt plus its thread flags, so either server can take it.
 * When the best point ran behind a balancer (bench --replicas/--lb), it also names the replica count and
 * policy and gives the nginx `upstream` and HAProxy `backend` blocks for them.
 */
import type {PointResult, Recommendation, ServerConfig} from '../results/bench-run.js'
import {haproxyBackend, nginxUpstream} from './balancer-config.js'

export type {Recommendation}

export function eligible(p: PointResult, sloP99Ms?: number): boolean {
  return !p.failed && p.errors.total === 0 && Number.isFinite(p.latency.p99Ms) && (sloP99Ms === undefined || p.latency.p99Ms <= sloP99Ms)
}

export function pickBest(points: PointResult[], sloP99Ms?: number): {best?: PointResult; unstableOnly: boolean} {
  const ok = points.filter((p) => eligible(p, sloP99Ms))
  const stable = ok.filter((p) => p.stable)
  const pool = stable.length ? stable : ok
  const best = [...pool].sort((a, b) => b.inferencesPerSec - a.inferencesPerSec)[0]
  return {best, unstableOnly: !stable.length && ok.length > 0}
}

export function serveFlags(s: ServerConfig): string[] {
  const f: string[] = []
  if (s.workers !== undefined) f.push(`--workers ${s.workers}`)
  if (s.intraOpThreads !== undefined) f.push(`--intra-op-threads ${s.intraOpThreads}`)
  if (s.interOpThreads !== undefined) f.push(`--inter-op-threads ${s.interOpThreads}`)
  if (s.maxBatchSize !== undefined) f.push(`--max-batch-size ${s.maxBatchSize}`)
  if (s.batchTimeoutMicros !== undefined) f.push(`--batch-timeout-micros ${s.batchTimeoutMicros}`)
  if (s.maxEnqueuedBatches !== undefined) f.push(`--max-enqueued-batches ${s.maxEnqueuedBatches}`)
  if (s.cacheSize !== undefined) f.push(`--cache-size ${s.cacheSize}`)
  if (s.extraFlags?.length) f.push(...s.extraFlags)
  return f
}

/** TF Serving batching_parameters.txt (text proto). num_batch_threads = workers, as the batching README advises (threads = cores). */
export function batchingParameters(s: ServerConfig, cores: number): string {
  const threads = s.workers ?? cores
  const lines = [
    `max_batch_size { value: ${s.maxBatchSize ?? 1} }`,
    `batch_timeout_micros { value: ${s.batchTimeoutMicros ?? 0} }`,
    // Online serving: max_enqueued_batches = num_batch_threads (TF Serving batching README).
    `max_enqueued_batches { value: ${s.maxEnqueuedBatches ?? threads} }`,
    `num_batch_threads { value: ${threads} }`,
  ]
  return `${lines.join('\n')}\n`
}

/** First port of the placeholder replicas in the emitted balancer blocks (TF Serving's REST port, then up). */
export const REPLICA_BASE_PORT = 8501

/** The balancer part of a recommendation; undefined for a point that ran on one server with no balancer. */
export function clusterRecommendation(s: ServerConfig): Recommendation['cluster'] {
  if (s.replicas === undefined || s.lb === undefined) return undefined
  const backends = Array.from({length: s.replicas}, (_, i) => `127.0.0.1:${REPLICA_BASE_PORT + i}`)
  return {
    replicas: s.replicas,
    lb: s.lb,
    balancer: s.balancer ?? 'nginx',
    backends,
    nginxUpstream: nginxUpstream(s.lb, backends),
    haproxyBackend: haproxyBackend(s.lb, backends),
  }
}

export function recommend(points: PointResult[], opts: {sloP99Ms?: number; modelArg: string; cores: number}): Recommendation | undefined {
  const {best, unstableOnly} = pickBest(points, opts.sloP99Ms)
  if (!best) return undefined
  const s = best.config.server
  const c = best.config.client
  const cluster = clusterRecommendation(s)
  const load = (c.mode === 'closed' ? `concurrency ${c.concurrency}` : `${c.rate} req/s (${c.arrival})`) + (c.protocol ? ` over ${c.protocol}` : '')
  return {
    pointId: best.id,
    reason:
      `highest throughput${opts.sloP99Ms !== undefined ? ` with p99 ≤ ${opts.sloP99Ms} ms` : ''} and no errors, at ${load}` +
      (cluster ? `, with ${cluster.replicas} replica${cluster.replicas === 1 ? '' : 's'} behind ${cluster.balancer} (${cluster.lb})` : ''),
    throughput: best.throughput,
    inferencesPerSec: best.inferencesPerSec,
    p99Ms: best.latency.p99Ms,
    server: s,
    client: c,
    // Behind a balancer each replica is one such command on its own port (the blocks below list them).
    serveCommand: ['tfsopt serve', opts.modelArg, ...serveFlags(s), ...(cluster ? [`--port ${REPLICA_BASE_PORT}`] : [])].filter(Boolean).join(' '),
    tfServing: {
      batchingParametersTxt: batchingParameters(s, opts.cores),
      flags: [
        ...(s.maxBatchSize !== undefined && s.maxBatchSize > 1 ? ['--enable_batching=true', '--batching_parameters_file=batching_parameters.txt'] : []),
        `--tensorflow_intra_op_parallelism=${s.intraOpThreads ?? 0}`,
        `--tensorflow_inter_op_parallelism=${s.interOpThreads ?? 0}`,
      ],
    },
    ...(cluster ? {cluster} : {}),
    caveat: unstableOnly ? 'only unstable points met the objective: re-measure with longer --duration before relying on it' : undefined,
  }
}
