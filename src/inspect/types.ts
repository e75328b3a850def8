/** What `tfsopt inspect` reports: one stable JSON shape for every model format. */
import type {TensorInfo} from '../models/dtypes.js'
import type {ModelFormat} from '../models/detect.js'
import type {Device} from '../runtime/types.js'
import type {ProviderAttempt} from '../runtime/devices.js'
import type {Placement} from '../runtime/placement.js'

export interface ComputeEstimate {
  /** Multiply-accumulates per sample in the op types listed in `counted`. */
  macs: number
  /** 2 × MACs (one multiply + one add each), the usual FLOPs convention. */
  flops: number
  /** Per op type: how many nodes/layers were counted and their MACs per sample. */
  counted: Record<string, {count: number; macs: number}>
  /** Every counted node/layer with its MACs per sample, in graph order: where the compute is. */
  nodes: {name: string; op: string; macs: number}[]
  /** Op/layer types present that were not counted (elementwise, pooling, normalisation, ...). */
  notCounted: string[]
  /** The per-sample input shapes the estimate assumes (dynamic dims resolved). */
  inputShapes: Record<string, number[]>
  /** How the shapes were obtained and what was assumed. */
  method: string
  notes: string[]
}

export interface InspectReport {
  path: string
  format: ModelFormat
  /** e.g. "onnx", "tfjs-layers", "tfjs-graph". */
  kind: string
  fileBytes: number
  files: string[]
  /** An encrypted model (tfsopt encrypt): the container read, and the size of the container file. File sizes above are of the decrypted files. */
  encrypted?: {container: string; containerBytes: number; keyId: string}
  producer?: string
  /** ONNX: opset per domain ('' = ai.onnx); TF.js: null. */
  opset: Record<string, number> | null
  runtime: {
    backend: 'onnx' | 'tfjs'
    engine: string
    device: string
    note: string
    /** With --device (ONNX): every provider considered and why it was or was not used. */
    attempts?: ProviderAttempt[]
    /** With --device (ONNX): where each node of one profiled run ran. */
    placement?: Placement
  }
  inputs: TensorInfo[]
  outputs: TensorInfo[]
  /** Op type (ONNX/graph) or layer class (layers) → count, most frequent first. */
  ops: Record<string, number>
  nodeCount: number
  parameters: number
  /** Bytes of stored weights per stored dtype (quantised TF.js weights count at their stored size). */
  weightBytes: Record<string, number>
  /** null when it could not be estimated; `computeError` then says why. */
  compute: ComputeEstimate | null
  computeError?: string
}

export interface InspectOptions {
  /** name → full shape including batch, from --input-shape name:1x3x48x192 (name may be '*' for the only input). */
  inputShapes?: Record<string, number[]>
  /** Skip the FLOPs estimate (no model run). */
  noCompute?: boolean
  /** Open the model on this device and profile one run (ONNX); without it the runtime is described, not started. */
  device?: Device
}
