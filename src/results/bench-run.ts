/**
 * The JSON a bench run writes (`--json`, `--out`): a stable, documented schema (docs/BENCH.md) that the
 * CI gate (`tfsopt compare`, `bench --baseline`) reads and the reports render. It lives in its own room
 * so that bench (which writes it), gate and report (which read it) all depend on it and not on each other.
 *
 * Version 2 adds `kind` to every prediction row, `group` to every point and the sampled USL curve to the
 * fits; everything version 1 had is still there under the same names, so the gate reads both.
 * Add fields freely; never rename or drop these.
 */
import type {PredictionRow} from '../queueing/predict.js'
import type {UslFit} from '../queueing/usl.js'
import type {MachineInfo} from './machine.js'

export type {MachineInfo}
export type {PredictionKind, PredictionRow, Quantity} from '../queueing/predict.js'

export const BENCH_SCHEMA = 'tfsopt-bench/2'
/** Schemas the gate can compare: every field it reads is in both. */
export const READABLE_BENCH_SCHEMAS: readonly string[] = ['tfsopt-bench/1', BENCH_SCHEMA]

/** Server-side settings of a point (built-in target); absent fields = server default. */
export interface ServerConfig {
  workers?: number
  intraOpThreads?: number
  interOpThreads?: number
  maxBatchSize?: number
  batchTimeoutMicros?: number
  maxEnqueuedBatches?: number
  cacheSize?: number
  extraFlags?: string[]
  /** --replicas: that many `tfsopt serve` processes behind the balancer (absent: one server, no balancer). */
  replicas?: number
  /** --lb: the balancer's policy for this point. */
  lb?: 'round-robin' | 'least-conn' | 'random-two'
  /** --balancer (nginx by default). */
  balancer?: 'nginx' | 'haproxy'
}

/** A point measured through a balancer in front of several replicas (docs/BENCH.md, "Replicas"). */
export interface ClusterPointResult {
  replicas: number
  lb: 'round-robin' | 'least-conn' | 'random-two'
  balancer: 'nginx' | 'haproxy'
  /** Requests each replica answered during the measured windows (from its own metrics). */
  perReplicaRequests: number[]
  /** Sum of perReplicaRequests. */
  replicaRequestsTotal: number
  /** Responses the client counted over the same windows (differs by at most the requests in flight at the edges). */
  clientRequests: number
  /** max/mean of perReplicaRequests (1 = perfectly even). */
  imbalance: number | null
  /** Median added latency of the balancer hop at concurrency 1 (GET /healthz one at a time before the point, through the balancer minus direct), ms. */
  addedLatencyMs: number | null
  /**
   * The same difference measured while the point's load ran (a pair of GET /healthz every 25 ms, median
   * over the repeats), ms; null where too few pairs completed.
   */
  addedLatencyAtLoadMs?: number | null
  /** Mean compute time per batch on the replicas (the service time the models use), ms. */
  serviceMs: number | null
  /** Service-time Cs² the models assumed: 1 with --inject-latency-dist exp, else 0 (fixed). */
  serviceScv: number
  /** CPU-bound (inference does the work) or sleep-bound (--inject-latency-ms dominates the service time). */
  regime: 'sleep-bound' | 'cpu-bound'
  /** The policy's cluster model (src/queueing/cluster.ts) beside the measurement. */
  prediction: {method: string; exact: boolean; predicted: number; measured: number; metric: 'p99Ms' | 'throughput'; relErr: number | null} | null
  perReplica?: ServerMetrics[]
}

/** Client-side load of a point. */
export interface ClientConfig {
  mode: 'closed' | 'open'
  concurrency?: number
  rate?: number
  arrival?: 'poisson' | 'constant'
  clientBatch: number
  repeatRatio: number
  /** The wire protocol (tfs-grpc, v2-rest, v2-rest-binary, v2-grpc); absent = TF Serving REST, as in runs before it existed. */
  protocol?: string
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
  // Written by `tfsopt bench` (BenchWindow); the gate needs only the fields above.
  p95Ms?: number
  p999Ms?: number
  non2xx?: number
  timeouts?: number
  connection?: number
  sent?: number
  lateSends?: number
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

export interface ErrorCounts {
  non2xx: number
  timeouts: number
  connection: number
  total: number
}

/** The server's own account of a point, from its Prometheus /metrics over the measured windows. */
export interface ServerMetrics {
  /** Mean server-side request latency (server's own clock). */
  requestMs?: number
  /** Mean time a request waited in the batching queue. */
  queueMs?: number
  /** Mean compute time per executed batch. */
  computeMsPerBatch?: number
  /** Realised mean batch size (inferences per executed batch). */
  batchSize?: number
  batches?: number
  paddingTotal?: number
  cacheHitRatio?: number
  cacheEvictions?: number
  cacheBytes?: number
  /** Server CPU in cores (process_cpu_seconds_total rate over the measured time). */
  cpuCores?: number
  rssBytes?: number
  workers?: number
  workerRestarts?: number
  // Per-thread busy time (docs/QUEUEING.md, per-station calibration), per request counted by the server:
  /** Main (HTTP) thread event-loop busy time per request, ms. */
  mainBusyMsPerRequest?: number
  /** Fraction of the measured time the main thread's event loop was busy (0–1). */
  mainUtilisation?: number
  /** Of the main thread's busy time, the JSON codec's share per request, ms (0 with the worker codec). */
  mainCodecMsPerRequest?: number
  /** Worker time inside session.run per request (batch time shared by its requests), ms. */
  workerInferenceMsPerRequest?: number
  /** Worker time in the JSON codec per request, ms (0 with the main-thread codec). */
  workerCodecMsPerRequest?: number
  /** The worker event loop's whole busy time per request (inference, codec, message (de)serialisation), ms. */
  workerLoopMsPerRequest?: number
  /** Busy fraction of the average worker (inference + codec), 0–1. */
  workerUtilisation?: number
  /** Requests the server counted, by status label, over the measured time. */
  requestsByStatus?: Record<string, number>
}

/** The stability rule's verdict on the last judged windows, with the rule it applied. */
export interface StabilityRecord {
  stable: boolean
  /** max/min − 1 over the judged windows, as a percentage (Infinity when a min is 0). */
  throughputSpreadPct: number
  p99SpreadPct: number
  /** Spread of the mean latency over the judged windows (runs before --stability-on lack it). */
  meanSpreadPct?: number
  /** The latency the rule judged: mean or p99 (absent: p99, as before --stability-on). */
  latency?: 'mean' | 'p99'
  judged: number
  pct: number
  windows: number
  maxWindows: number
}

/** One point's shown prediction: `calibration` marks a point the model was calibrated on (not a forecast). */
export interface PointPrediction {
  model: string
  meanMs: number
  /** Predicted throughput (req/s) by the same model, null where it predicts none. */
  throughput: number | null
  calibration: boolean
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
  errors: ErrorCounts
  // What follows is written by `tfsopt bench`; optional because results from elsewhere (hand-made,
  // synthetic) may lack it, and the gate only needs the fields above.
  flagged?: boolean
  stability?: StabilityRecord
  spread?: {throughput: {min: number; max: number} | null; p99Ms: {min: number; max: number} | null}
  sent?: number
  lateSends?: number
  clientCpuCores?: number
  serverCpuCores?: number
  /** Cores the rest of the machine used during the point (other processes, hypervisor steal), from /proc/stat. */
  otherCpuCores?: number
  generatorSaturated?: boolean
  meanInflight?: number
  measuredS?: number
  server?: ServerMetrics
  /** Present when the point ran behind a balancer (--replicas/--lb). */
  cluster?: ClusterPointResult
  /** One entry per --repeat. */
  repeats?: Array<{throughput: number; p99Ms: number; stable: boolean; failed?: string}>
  /** Key of the point's group: same model, server setting, client batch and repeat ratio (equals a GroupFits.serverKey). */
  group?: string
  /** Every applicable queueing model's prediction for this point beside the measurement. */
  queueing?: PredictionRow[]
  /**
   * 95% confidence intervals of throughput (req/s) and mean latency (ms) from the spread of the windows the
   * summary covers (Student's t over window means; absent with fewer than 2 windows).
   */
  ci?: {level: number; windows: number; throughput: [number, number]; meanMs: [number, number]}
  /** Adaptive search: the station model's forecast made from the points measured before this one, when it chose it. */
  searchForecast?: {throughput: number; meanMs: number}
  /** The prediction the reports show for this point (absent when no model could predict it). */
  prediction?: PointPrediction
}

/** Queueing fits per group of points (one server setting), from src/queueing. */
export interface GroupFits {
  serverKey: string
  serviceTimeS?: number
  serviceScv?: number
  workers: number
  usl?: UslFitRecord
  uslNote?: string
  batchCost?: {alpha: number; beta: number; n: number; warnings: string[]}
  /** Main-thread time per request and the delay outside the server, s, from the lone client's server metrics. */
  stations?: {mainServiceS: number; delayS: number}
  /** The station model's calibration (src/bench/station-fits.ts), with t(b) fitted on all the group's batches. */
  station?: StationFit
}

/** What the station model was calibrated on and to (ms); `note` says why a field is missing. */
export interface StationFit {
  /** The declared calibration points: their rows restate them, every other point's are forecasts. */
  calibrationIds: string[]
  /** The server setting it models (for `tfsopt queue forecast`). */
  workers?: number
  maxBatchSize?: number
  batchTimeoutMs?: number
  generatorMs?: number
  mainMs?: number
  /** Main-thread work per batch (a request's main-thread demand is mainMs + mainPerBatchMs/B). */
  mainPerBatchMs?: number
  alphaMs?: number
  betaMs?: number
  delayMs?: number
  gapMs?: number
  wakeMs?: number
  /** Capacity X_max from the highest load, req/s (absent when the group has no load above the next one). */
  capacity?: number
  cpuPerRequestMs?: number
  cores?: number
  note?: string
}

export type UslFitRecord = Pick<UslFit, 'sigma' | 'kappa' | 'lambda' | 'nMax' | 'xMax' | 'peakKind' | 'rmse' | 'stdErr' | 'contentionLimited'> & {
  /** Closed-loop points the fit used. */
  points: number
  /** The fitted curve X(N) sampled from N = 1 to the largest measured concurrency, for charts. */
  curve?: Array<[number, number]>
}

export interface Recommendation {
  pointId: string
  reason: string
  throughput: number
  inferencesPerSec: number
  p99Ms: number
  server: ServerConfig
  client: ClientConfig
  serveCommand: string
  tfServing: {batchingParametersTxt: string; flags: string[]}
  /**
   * When the best point ran behind a balancer: how many replicas and which policy, and the balancer
   * configuration to copy (nginx `upstream`, HAProxy `backend`) over placeholder replica addresses.
   */
  cluster?: {
    replicas: number
    lb: 'round-robin' | 'least-conn' | 'random-two'
    balancer: 'nginx' | 'haproxy'
    /** The replica addresses the blocks name (placeholders: one `tfsopt serve --port …` each). */
    backends: string[]
    nginxUpstream: string
    haproxyBackend: string
  }
  /** Set when only unstable points met the SLO. */
  caveat?: string
}

/** The CI gate's verdict on this run against --baseline. */
export interface GateSummary {
  verdict: 'ok' | 'regression' | 'error'
  exitCode: number
  summary: string
  regressions: number
  improvements: number
}

/** The options the run was measured with (docs/BENCH.md), recorded for reproducibility. */
export interface BenchSettings {
  concurrency: number[]
  rate: number[]
  arrival: 'poisson' | 'constant'
  clientBatch: number[]
  repeatRatio: number[]
  /** Wire protocols measured (absent in runs before --protocol: TF Serving REST). */
  protocol?: string[]
  server: {workers: number[]; intraOpThreads: number[]; maxBatchSize: number[]; batchTimeoutMicros: number[]; cacheSize: number[]}
  serverFlags: string[]
  /** --replicas/--lb/--balancer (absent on runs without them). */
  cluster?: {replicas: number[]; lb: string[]; balancer: string}
  data: string | null
  warmupS: number
  windowS: number
  windows: number
  maxWindows: number
  stabilityPct: number
  /** The latency the stability rule judged (absent in older runs: p99). */
  stabilityOn?: 'mean' | 'p99'
  /** Count windows: minimum requests per window (absent in older runs: none). */
  minWindowRequests?: number
  search: 'grid' | 'adaptive'
  sloP99Ms: number | null
  repeat: number
  compareModel: string | null
  failFast: boolean
  seed: number
  timeoutS: number
}

export interface BenchRun {
  schema: string
  tfsoptVersion: string
  startedAt: string
  finishedAt?: string
  model: {name: string; path?: string; sha256?: string}
  target: {url: string; builtIn: boolean}
  machine: MachineInfo
  /** Partial: baselines written by other versions may record fewer settings. */
  settings: Partial<BenchSettings>
  points: PointResult[]
  interrupted?: boolean
  /** Set by --fail-fast: why the sweep stopped. */
  stoppedBy?: string
  warnings?: string[]
  // Written by the analysis after measuring (src/bench/finalize.ts).
  fits?: GroupFits[]
  /** Ids of the points on the throughput-vs-p99 Pareto front. */
  pareto?: string[]
  recommendation?: Recommendation | null
  measuringTimeS?: number
  gate?: GateSummary
  /** When the run was saved as a baseline. */
  baselineSavedAt?: string
}
