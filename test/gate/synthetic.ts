// Synthetic bench runs for the gate's tests: per-window samples drawn from seeded log-normal
// distributions (latency-like noise), so every test sees the same numbers on every machine.
import {BENCH_SCHEMA, type BenchRun, type PointResult, type WindowSample, type MachineInfo} from '../../src/results/bench-run.ts'
import {mulberry32, randomLogNormal, type Rng} from '../../src/stats/prng.ts'

export interface PointSpec {
  id?: string
  windows?: number
  /** Median throughput (req/s) and p50/p99 latency (ms). */
  throughput?: number
  p50?: number
  p99?: number
  /** Log-space sd of the per-window noise (0.03 ≈ 3% coefficient of variation). */
  noise?: number
  errorsPerWindow?: number
  failed?: string
  stable?: boolean
}

export const MACHINE: MachineInfo = {cpuModel: 'Synthetic CPU @ 3.0GHz', cores: 2, memoryBytes: 8 * 1024 ** 3, node: 'v20.20.2', platform: 'linux', arch: 'x64'}

export function makePoint(spec: PointSpec, rng: Rng): PointResult {
  const n = spec.windows ?? 10
  const noise = spec.noise ?? 0.03
  const windows: WindowSample[] = []
  for (let i = 0; i < n; i++) {
    const throughput = randomLogNormal(rng, spec.throughput ?? 1000, noise)
    const p50 = randomLogNormal(rng, spec.p50 ?? 10, noise)
    const p99 = randomLogNormal(rng, spec.p99 ?? 30, noise)
    windows.push({
      index: i,
      durationS: 5,
      requests: Math.round(throughput * 5),
      inferences: Math.round(throughput * 5),
      throughput,
      meanMs: p50 * 1.1,
      p50Ms: p50,
      p90Ms: p50 * 2,
      p99Ms: p99,
      errors: spec.errorsPerWindow ?? 0,
    })
  }
  const errs = windows.reduce((s, w) => s + w.errors, 0)
  return {
    id: spec.id ?? 'c=8 batch=1',
    config: {server: {}, client: {mode: 'closed', concurrency: 8, clientBatch: 1, repeatRatio: 0}},
    stable: spec.stable ?? true,
    ...(spec.failed ? {failed: spec.failed} : {}),
    windows,
    throughput: spec.throughput ?? 1000,
    inferencesPerSec: spec.throughput ?? 1000,
    latency: {meanMs: 11, stdevMs: 2, minMs: 5, maxMs: 40, p50Ms: spec.p50 ?? 10, p90Ms: 20, p95Ms: 25, p99Ms: spec.p99 ?? 30, p999Ms: 35},
    errors: {non2xx: errs, timeouts: 0, connection: 0, total: errs},
  }
}

export function makeRun(points: PointSpec[], seed: number, extra: Partial<BenchRun> = {}): BenchRun {
  const rng = mulberry32(seed)
  return {
    schema: BENCH_SCHEMA,
    tfsoptVersion: '0.1.0',
    startedAt: '2025-01-01T00:00:00.000Z',
    model: {name: 'mnist', sha256: 'a'.repeat(64)},
    target: {url: 'http://127.0.0.1:8501', builtIn: true},
    machine: MACHINE,
    settings: {windowS: 5, windows: points[0]?.windows ?? 10},
    points: points.map((p) => makePoint(p, rng)),
    ...extra,
  }
}
