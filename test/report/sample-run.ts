/** A synthetic but complete BenchRun (2 server settings × 6 concurrencies) for the report tests. */
import {BENCH_SCHEMA, type BenchRun, type PointResult} from '../../src/results/bench-run.ts'
import {finalizeRun} from '../../src/bench/finalize.ts'
import {pointId} from '../../src/bench/options.ts'

export function sampleRun(): BenchRun {
  const points: PointResult[] = []
  for (const mbs of [1, 8]) {
    for (const n of [1, 2, 4, 8, 16, 32]) {
      // USL-shaped throughput with a little contention and crosstalk.
      const x = ((500 * n) / (1 + 0.1 * (n - 1) + 0.002 * n * (n - 1))) * (mbs === 8 ? 1.3 : 1)
      const r = (n / x) * 1000
      const config = {model: 'mnist', server: {maxBatchSize: mbs}, client: {mode: 'closed' as const, concurrency: n, clientBatch: 1, repeatRatio: 0}}
      points.push({
        id: pointId({model: 'mnist', server: config.server, client: config.client}),
        config,
        stable: n !== 32,
        windows: [0, 1, 2].map((i) => ({
          index: i,
          durationS: 1,
          requests: Math.round(x),
          inferences: Math.round(x),
          throughput: x * (1 + (i - 1) * 0.01),
          meanMs: r,
          p50Ms: r * 0.9,
          p90Ms: r * 1.5,
          p99Ms: r * 2.5,
          errors: 0,
        })),
        throughput: x,
        inferencesPerSec: x,
        latency: {meanMs: r, stdevMs: r / 3, minMs: r / 3, maxMs: r * 4, p50Ms: r * 0.9, p90Ms: r * 1.5, p95Ms: r * 2, p99Ms: r * 2.5, p999Ms: r * 3.5},
        errors: {non2xx: n === 32 && mbs === 1 ? 3 : 0, timeouts: 0, connection: 0, total: n === 32 && mbs === 1 ? 3 : 0},
        server: {queueMs: r / 3, computeMsPerBatch: 0.5 + 0.1 * Math.min(n, mbs), batchSize: Math.min(n, mbs), batches: 100, cacheHitRatio: 0},
        measuredS: 3,
        clientCpuCores: 0.3,
      })
    }
  }
  return finalizedRun(points, 40)
}

/** A run of these points on a made-up 2-core machine, finalised as the bench does (SLO in ms, if any). */
export function finalizedRun(points: PointResult[], sloP99Ms?: number): BenchRun {
  const run: BenchRun = {
    schema: BENCH_SCHEMA,
    tfsoptVersion: '0.1.0',
    startedAt: '2025-01-01T00:00:00.000Z',
    model: {name: 'mnist'},
    target: {url: 'built-in', builtIn: true},
    machine: {cpuModel: 'test', cores: 2, memoryBytes: 1, node: 'v20', platform: 'linux', arch: 'x64'},
    settings: {},
    points,
    warnings: [],
  }
  finalizeRun(run, {...(sloP99Ms !== undefined ? {sloP99Ms} : {}), modelArg: 'model.onnx', cores: 2, workersOf: () => 1})
  return run
}
