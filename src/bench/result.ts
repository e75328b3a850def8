/**
 * The JSON a bench run writes (`--json`, `--out`): a stable, documented schema that the CI gate
 * (`tfsopt compare`, `bench --baseline`) reads. Add fields freely; never rename or drop these.
 */
export const BENCH_SCHEMA = 'tfsopt-bench/1'

export interface MachineInfo {
  cpuModel: string
  cores: number
  memoryBytes: number
  node: string
  platform: string
  arch: string
  hostname?: string
}

/** Server-side settings of a point (built-in target); null fields = server default. */
export interface ServerConfig {
  workers?: number
  intraOpThreads?: number
  interOpThreads?: number
  maxBatchSize?: number
  batchTimeoutMicros?: number
  maxEnqueuedBatches?: number
  cacheSize?: number
  extraFlags?: string[]
}

/** Client-side load of a point. */
export interface ClientConfig {
  mode: 'closed' | 'open'
  concurrency?: number
  rate?: number
  arrival?: 'poisson' | 'constant'
  clientBatch: number
  repeatRatio: number
}

export interface PointConfig {
  server: ServerConfig
  client: ClientConfig
  model?: string
}

/** One measurement window: raw per-window samples are what the CI gate's statistics run on. */
export interface WindowSample {
  index: number
  durationS: number
  requests: number
  inferences: number
  throughput: number
  meanMs: number
  p50Ms: number
  p90Ms: number
  p99Ms: number
  errors: number
}

export interface LatencySummary {
  meanMs: number
  stdevMs: number
  minMs: number
  maxMs: number
  p50Ms: number
  p90Ms: number
  p95Ms: number
  p99Ms: number
  p999Ms: number
}

export interface PointResult {
  /** Canonical key of the configuration: points with the same id in two runs are compared. */
  id: string
  config: PointConfig
  stable: boolean
  failed?: string
  windows: WindowSample[]
  throughput: number
  inferencesPerSec: number
  latency: LatencySummary
  errors: {non2xx: number; timeouts: number; connection: number; total: number}
  [extra: string]: unknown
}

export interface BenchRun {
  schema: typeof BENCH_SCHEMA
  tfsoptVersion: string
  startedAt: string
  finishedAt?: string
  model: {name: string; path?: string; sha256?: string}
  target: {url: string; builtIn: boolean}
  machine: MachineInfo
  settings: Record<string, unknown>
  points: PointResult[]
  [extra: string]: unknown
}
