/** Types the server's parts share: options, batching settings, the model a worker runs. */
import type {AccessLogOptions} from './access-log.js'
import type {TensorInfo} from '../models/dtypes.js'
import type {BackendKind, Device} from '../runtime/types.js'
import type {Provider} from '../runtime/devices.js'
import type {Placement} from '../runtime/placement.js'
import type {WarmupRequest} from './warmup-file.js'

/** Batching flags as the user gave them: undefined means "not given", so defaults can suit the model. */
export interface BatchingFlags {
  maxBatchSize?: number
  batchTimeoutMicros?: number
  maxEnqueuedBatches?: number
  allowedBatchSizes?: number[]
}

/** The batching a served version actually uses (printed in the ready line). */
export interface BatchingConfig {
  enabled: boolean
  /** 0 when batching is off: every request then runs on its own. */
  maxBatchSize: number
  batchTimeoutMicros: number
  maxEnqueuedBatches: number
  allowedBatchSizes: number[]
}

export type VersionPolicy = {latest: {num_versions?: number}} | {all: Record<string, never>} | {specific: {versions: number[]}}

/** One model to serve: a file/directory (one version) or a TF Serving base path (numeric versions). */
export interface ModelSpec {
  name: string
  /** A base path with numeric version directories, or a single model file/directory. */
  path: string
  policy?: VersionPolicy
  labels?: Record<string, number>
  batching?: BatchingFlags
}

export interface RuntimeSettings {
  backend: 'auto' | BackendKind
  device: Device
  /** The ONNX execution provider chosen for `device` (probed once at start-up). */
  provider?: Provider
  workers: number
  intraOpThreads?: number
  interOpThreads?: number
  allowSpinning?: boolean
  warmup: number
  /** Per version: the warm-up requests found beside it (set by the model manager, not by the user). */
  warmupRequests?: WarmupRequest[]
  injectLatencyMs: number
  /** fixed: every batch sleeps injectLatencyMs; exp: an exponential sleep with that mean (M/M-style service). */
  injectLatencyDist?: 'fixed' | 'exp'
  /**
   * --load-nice: the nice value a version's threads run at while it loads beside serving models (0: off).
   * The model manager applies it to loads after start-up only (load-priority.ts).
   */
  loadNice?: number
}

export interface ServerOptions extends Partial<RuntimeSettings> {
  models: ModelSpec[]
  /** --access-log: one JSON line per inference request, to 'stderr' or a file, sampled (access-log.ts). */
  accessLog?: AccessLogOptions
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** TF Serving gRPC (and KServe v2 gRPC) on this port; off when undefined, 0 picks a free port. */
  grpcPort?: number
  /** gRPC Predict answers numeric outputs as tensor_content rather than the typed *_val fields. */
  grpcTensorContent?: boolean
  batching?: BatchingFlags
  /**
   * Bytes the loaded models may hold together (a number, or "512MB", "2GiB", "25%" of the machine's
   * memory): models then load on their first request and the least recently used idle one is evicted.
   */
  modelMemoryBudget?: number | string
  /** How long a request waits for its model to load on demand (default 60 s). */
  modelLoadTimeoutSeconds?: number
  cacheSize?: number
  cacheBytes?: number
  pollSeconds?: number
  apiKey?: string
  maxBodyBytes?: number
  /** Server-wide bound on request-body bytes in flight (default: a sixteenth of the machine's memory). */
  maxInflightBodyBytes?: number
  drainTimeoutSeconds?: number
  /**
   * Where JSON predict bodies of 64 KiB and more are parsed, and large answers written: in the inference
   * workers (default) or on the main thread.
   */
  jsonCodec?: 'worker' | 'main'
  /** Slowloris bounds: a client gets this long to send its headers (default 20 s)... */
  headersTimeoutSeconds?: number
  /** ...and this long to send the whole request (default 120 s); then it gets 408 and is disconnected. */
  requestTimeoutSeconds?: number
  /** Enables POST /v1/_test/kill-worker (also TFSOPT_TEST_HOOKS=1). Off by default. */
  testHooks?: boolean
  /** Where log lines go (stderr by default; tests pass a no-op). */
  log?: (line: string) => void
}

/** What a worker reports once its session is open and warmed up. */
export interface WorkerModelInfo {
  inputs: TensorInfo[]
  outputs: TensorInfo[]
  backend: BackendKind
  engine: string
  device: string
  deviceNote: string
  /** On a GPU provider: where the profiled warm-up run's nodes ran and what its copies cost. */
  placement?: Placement
  /** The runtime's own count of the bytes the session holds, where it keeps one (TF.js); summed over the pool's workers. */
  runtimeBytes?: number
}

/** One served model version as the ready line and the start-up log describe it. */
export interface ServedModelSummary {
  name: string
  version: number
  backend: string
  device: string
  engine: string
  batching: BatchingConfig
  workers: number
  intraOpThreads: number | null
  cache: {maxEntries: number; maxBytes: number}
}
