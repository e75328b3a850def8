/** A synthetic BenchRun of cluster points (1 and 2 replicas, two policies) for the report tests. */
import {pointId} from '../../src/bench/options.ts'
import type {BenchRun, PointResult, ServerConfig} from '../../src/results/bench-run.ts'
import {finalizedRun} from './sample-run.ts'

export function clusterSampleRun(): BenchRun {
  const settings: Array<{server: ServerConfig; x: number; counts: number[]}> = [
    {server: {replicas: 1, lb: 'round-robin'}, x: 50, counts: [150]},
    {server: {replicas: 2, lb: 'round-robin'}, x: 98, counts: [150, 144]},
    {server: {replicas: 2, lb: 'least-conn'}, x: 96, counts: [140, 148]},
  ]
  const points: PointResult[] = settings.map(({server, x, counts}) => {
    const client = {mode: 'closed' as const, concurrency: 4, clientBatch: 1, repeatRatio: 0}
    const r = (4 / x) * 1000
    const total = counts.reduce((a, b) => a + b, 0)
    const n = counts.length
    const predicted = (Math.min(4, n) * 1000) / 20
    return {
      id: pointId({model: 'mnist', server, client}),
      config: {model: 'mnist', server, client},
      stable: true,
      windows: [0, 1, 2].map((i) => ({
        index: i,
        durationS: 1,
        requests: total / 3,
        inferences: total / 3,
        throughput: x,
        meanMs: r,
        p50Ms: r,
        p90Ms: r,
        p99Ms: r * 1.5,
        errors: 0,
      })),
      throughput: x,
      inferencesPerSec: x,
      latency: {meanMs: r, stdevMs: 1, minMs: r / 2, maxMs: r * 2, p50Ms: r, p90Ms: r, p95Ms: r, p99Ms: r * 1.5, p999Ms: r * 2},
      errors: {non2xx: 0, timeouts: 0, connection: 0, total: 0},
      measuredS: 3,
      clientCpuCores: 0.1,
      cluster: {
        replicas: n,
        lb: server.lb!,
        balancer: 'nginx',
        perReplicaRequests: counts,
        replicaRequestsTotal: total,
        clientRequests: total,
        imbalance: Math.max(...counts) / (total / n),
        addedLatencyMs: 0.12,
        addedLatencyAtLoadMs: 0.31,
        serviceMs: 20,
        serviceScv: 0,
        regime: 'sleep-bound',
        prediction: {method: 'asymptotic bound min(c, N)/S', exact: false, predicted, measured: x, metric: 'throughput', relErr: (x - predicted) / predicted},
      },
    }
  })
  return finalizedRun(points)
}
