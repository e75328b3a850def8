/**
 * The cluster section of a point measured behind a balancer: per-replica request counts from each
 * replica's own metrics, the imbalance, the balancer's added latency, and the policy's queueing model
 * (src/queueing/cluster.ts) against the measurement.
 */
import {predictCluster} from '../queueing/cluster.js'
import {relativeError} from '../queueing/validate.js'
import {median} from '../stats/quantile.js'
import type {ClusterPointResult, PointResult, ServerMetrics} from '../results/bench-run.js'
import type {ClusterHandle} from './cluster-process.js'
import type {PointMeasurement} from './measure-point.js'

export function clusterResult(
  p: Pick<PointResult, 'config' | 'throughput' | 'latency'>,
  reps: ReadonlyArray<{m: PointMeasurement; cluster?: ClusterHandle; addedAtLoadMs?: number}>,
  serverFlags: readonly string[],
): ClusterPointResult | undefined {
  const handle = reps.find((r) => r.cluster)?.cluster
  if (!handle) return undefined
  const atLoad = reps.flatMap((r) => (r.addedAtLoadMs === undefined ? [] : [r.addedAtLoadMs]))
  const n = handle.replicas.length
  const perReplicaRequests = Array.from({length: n}, (_, i) => reps.reduce((s, r) => s + okRequests(r.m.replicas?.[i]), 0))
  const replicaRequestsTotal = perReplicaRequests.reduce((a, b) => a + b, 0)
  const mean = replicaRequestsTotal / n
  const clientRequests = reps.reduce((s, r) => s + r.m.windows.reduce((t, w) => t + w.requests, 0), 0)
  const last = [...reps].reverse().find((r) => r.m.replicas)?.m.replicas
  const perReplica = last?.map((x) => x ?? {})
  const computeWeighted = (last ?? []).reduce(
    (acc, x, i) =>
      x?.computeMsPerBatch === undefined ? acc : {sum: acc.sum + x.computeMsPerBatch * (perReplicaRequests[i] ?? 0), w: acc.w + (perReplicaRequests[i] ?? 0)},
    {sum: 0, w: 0},
  )
  const serviceMs = computeWeighted.w > 0 ? computeWeighted.sum / computeWeighted.w : null
  const serviceScv = flagValue(serverFlags, '--inject-latency-dist') === 'exp' ? 1 : 0
  const sleepMs = Number(flagValue(serverFlags, '--inject-latency-ms') ?? 0)
  const workers = Math.max(...(last ?? []).map((x) => x?.workers ?? 1), 1)
  // The models serve one request at a time: a replica that batched (mean realised batch > 1) is not theirs.
  const batched = (last ?? []).some((x) => (x?.batchSize ?? 1) > 1.05)
  return {
    replicas: n,
    lb: handle.policy,
    balancer: handle.balancer,
    perReplicaRequests,
    replicaRequestsTotal,
    clientRequests,
    imbalance: mean > 0 ? Math.max(...perReplicaRequests) / mean : null,
    addedLatencyMs: handle.addedLatencyMs ?? null,
    addedLatencyAtLoadMs: atLoad.length ? median(atLoad) : null,
    serviceMs,
    serviceScv,
    regime: sleepMs > 0 && serviceMs !== null && sleepMs >= 0.5 * serviceMs ? 'sleep-bound' : 'cpu-bound',
    prediction: batched ? null : predict(p, handle, serviceMs, serviceScv, workers),
    ...(perReplica ? {perReplica: perReplica as ServerMetrics[]} : {}),
  }
}

/** Responses with a 2xx status that the replica counted (tfsopt_requests_total by status). */
function okRequests(m: ServerMetrics | undefined): number {
  if (!m?.requestsByStatus) return 0
  return Object.entries(m.requestsByStatus).reduce((s, [status, v]) => (status.startsWith('2') ? s + v : s), 0)
}

function flagValue(flags: readonly string[], name: string): string | undefined {
  const i = flags.indexOf(name)
  if (i >= 0) return flags[i + 1]
  const eq = flags.find((f) => f.startsWith(`${name}=`))
  return eq?.slice(name.length + 1)
}

/**
 * Open loop: the policy's model p99 at the point's arrival rate and the replicas' measured service time.
 * Closed loop with c connections: the asymptotic throughput bound min(c, N)/S. The models assume one
 * request at a time per replica (--workers 1, no batching); with more workers per replica, or a replica
 * whose mean realised batch exceeds 1 (the caller checks), no prediction is made.
 */
function predict(
  p: Pick<PointResult, 'config' | 'throughput' | 'latency'>,
  h: ClusterHandle,
  serviceMs: number | null,
  serviceScv: number,
  workers: number,
): ClusterPointResult['prediction'] {
  if (serviceMs === null || serviceMs <= 0 || workers > 1) return null
  const n = h.replicas.length
  const c = p.config.client
  if (c.mode === 'closed') {
    const predicted = (Math.min(c.concurrency ?? 1, n) * 1000) / serviceMs
    return {
      method: `asymptotic bound min(c, N)/S`,
      exact: false,
      predicted,
      measured: p.throughput,
      metric: 'throughput',
      relErr: relativeError(predicted, p.throughput),
    }
  }
  try {
    const r = predictCluster(h.policy, {replicas: n, arrivalRate: c.rate ?? 0, serviceTime: serviceMs / 1000, serviceScv})
    const predicted = r.responseQuantile(0.99) * 1000
    return {method: r.method, exact: r.exact, predicted, measured: p.latency.p99Ms, metric: 'p99Ms', relErr: relativeError(predicted, p.latency.p99Ms)}
  } catch {
    return null // ρ ≥ 1: no steady state to predict
  }
}
