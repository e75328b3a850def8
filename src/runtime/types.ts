/**
 * The one small interface every inference backend implements: load, describe I/O, run a batch,
 * dispose. The server's workers, the optimisers' evaluations and `inspect` only ever talk to this.
 */
import type {DType, TensorInfo} from '../models/dtypes.js'
import type {Provider, ProviderAttempt} from './devices.js'
import type {Placement} from './placement.js'

/** What --device asks for: a policy (auto, gpu), or one provider (cpu, cuda, tensorrt, webgpu). See devices.ts. */
export type Device = 'auto' | 'cpu' | 'gpu' | 'cuda' | 'tensorrt' | 'webgpu'
export const DEVICES: readonly Device[] = ['auto', 'cpu', 'gpu', 'cuda', 'tensorrt', 'webgpu']
export type BackendKind = 'onnx' | 'tfjs'

/** A tensor on the host, in a form every runtime can take (and a worker thread can transfer). */
export interface Tensor {
  dtype: DType
  dims: number[]
  /** float16 carried as Uint16 bits; int64 as BigInt64Array; strings as string[]. */
  data: Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[]
}

export type Feeds = Record<string, Tensor>

export interface SessionOptions {
  device?: Device
  intraOpThreads?: number
  interOpThreads?: number
  /**
   * Let onnxruntime's thread pools spin while waiting for work. Off by default: spinning buys a little
   * latency but burns a core per pool even at low load (measured 23 vs 2.6 ms CPU per run of the
   * matmul-heavy model at 40 runs/s), which a server's HTTP thread on the same cores pays for.
   */
  allowSpinning?: boolean
  /**
   * ONNX: the provider already chosen (the server's main thread probes once and tells its workers), so
   * no probe runs here. Without it `device` is resolved by devices.ts selectDevice.
   */
  provider?: Provider
  /** ONNX: profile the next run (see InferenceSession.profileOnce) to learn where each node ran. */
  profile?: boolean
}

export interface InferenceSession {
  readonly backend: BackendKind
  /** Human description of what runs it, e.g. "onnxruntime-node 1.30.0 (cpu)" or "tfjs 4.22 (wasm)". */
  readonly engine: string
  /** The device actually in use ("cpu", "cuda", "webgpu", ...), and why when `auto` chose it. */
  readonly device: string
  readonly deviceNote: string
  readonly inputs: TensorInfo[]
  readonly outputs: TensorInfo[]
  /** ONNX with a GPU provider: the providers tried and why the others did not run. */
  readonly attempts?: ProviderAttempt[]
  run(feeds: Feeds, outputNames?: string[]): Promise<Record<string, Tensor>>
  /**
   * Opened with `profile`: runs `feeds` once under onnxruntime's profiler, stops it, and says where each
   * node ran and what the host↔device copies cost. Undefined for runtimes without a profiler.
   */
  profileOnce?(feeds: Feeds): Promise<Placement>
  /** Bytes the runtime itself says the session holds (TF.js: tf.memory().numBytes); undefined where it keeps no count. */
  memoryBytes?(): number
  dispose(): Promise<void>
}
