/** TensorFlow.js backend: layers and graph models from model.json, SavedModels through tfjs-node. */
import type * as TfNs from '@tensorflow/tfjs'
import {TfsoptError} from '../errors.js'
import {readShards, isLayersModel, readTfjsModelJson} from '../models/tfjs/artifacts.js'
import type {DType, TensorInfo} from '../models/dtypes.js'
import {loadTfjs, TFJS_NODE_FIX, type TfjsBackend} from './tfjs-backend.js'
import type {Feeds, InferenceSession, SessionOptions, Tensor} from './types.js'

type Runnable = TfNs.LayersModel | TfNs.GraphModel | {inputs: unknown; outputs: unknown; predict(x: unknown): unknown}

export function tfjsArtifacts(path: string): TfNs.io.ModelArtifacts {
  const json = readTfjsModelJson(path)
  const weightData = readShards(path, json)
  return {
    modelTopology: json.modelTopology as TfNs.io.ModelArtifacts['modelTopology'],
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as TfNs.io.WeightsManifestEntry[],
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength) as ArrayBuffer,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy ?? undefined,
    signature: json.signature as object | undefined,
    userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
  }
}

const dims = (s: (number | null)[] | undefined | null) => (s ? s.map((d) => (d === null || d === -1 ? null : d)) : null)

export class TfjsSession implements InferenceSession {
  readonly backend = 'tfjs' as const
  readonly engine: string
  readonly device: string
  readonly deviceNote: string
  constructor(
    private readonly tfb: TfjsBackend,
    private readonly model: Runnable,
    readonly inputs: TensorInfo[],
    readonly outputs: TensorInfo[],
    private readonly isLayers: boolean,
  ) {
    this.engine = `${tfb.pkg} ${tfb.tf.version?.tfjs ?? ''} (${tfb.backend})`.trim()
    this.device = tfb.device
    this.deviceNote = tfb.note
  }

  static async load(path: string, format: 'tfjs' | 'savedmodel', opts: SessionOptions = {}): Promise<TfjsSession> {
    const tfb = await loadTfjs(opts.device)
    const {tf} = tfb
    if (format === 'savedmodel') {
      const node = (tf as unknown as {node?: {loadSavedModel(p: string): Promise<Runnable>}}).node
      if (!node)
        throw new TfsoptError(
          'E_BACKEND_MISSING',
          `${path} is a TensorFlow SavedModel, which loads only through tfjs-node: ${TFJS_NODE_FIX}; or convert it to ONNX (tf2onnx) or TF.js (tensorflowjs_converter)`,
        )
      const m = await node.loadSavedModel(path)
      const mi = m as unknown as {inputs: {name: string; dtype: string; shape?: number[]}[]; outputs: {name: string; dtype: string; shape?: number[]}[]}
      return new TfjsSession(tfb, m, mi.inputs.map(toInfo), mi.outputs.map(toInfo), false)
    }
    const json = readTfjsModelJson(path)
    const artifacts = tfjsArtifacts(path)
    const handler = tf.io.fromMemory(artifacts)
    try {
      if (isLayersModel(json)) {
        const m = await tf.loadLayersModel(handler)
        const inputs = m.inputs.map((t, i) => ({name: m.inputNames[i] ?? t.name, dtype: t.dtype as DType, shape: dims(t.shape)}))
        const outputs = m.outputs.map((t, i) => ({name: m.outputNames[i] ?? t.name, dtype: t.dtype as DType, shape: dims(t.shape)}))
        return new TfjsSession(tfb, m, inputs, outputs, true)
      }
      const g = await tf.loadGraphModel(handler)
      return new TfjsSession(tfb, g, g.inputs.map(toInfo), g.outputs.map(toInfo), false)
    } catch (err) {
      throw new TfsoptError('E_RUNTIME', `TensorFlow.js could not load ${path}: ${(err as Error).message.split('\n')[0]}`)
    }
  }

  async run(feeds: Feeds, outputNames?: string[]): Promise<Record<string, Tensor>> {
    const {tf} = this.tfb
    const named: Record<string, TfNs.Tensor> = {}
    for (const info of this.inputs) {
      const f = feeds[info.name]
      if (!f) throw new TfsoptError('E_BAD_REQUEST', `missing input ${info.name}`)
      const data = f.dtype === 'float32' || f.dtype === 'int32' ? f.data : Float32Array.from(f.data as ArrayLike<number>)
      named[info.name] = tf.tensor(data as Float32Array, f.dims, f.dtype === 'int32' ? 'int32' : 'float32')
    }
    try {
      const ordered = this.inputs.map((i) => named[i.name]!)
      const arg = ordered.length === 1 ? ordered[0]! : this.isLayers ? ordered : named
      const res = (this.model as {predict(x: unknown): TfNs.Tensor | TfNs.Tensor[] | Record<string, TfNs.Tensor>}).predict(arg as never)
      const list: TfNs.Tensor[] = Array.isArray(res)
        ? res
        : res instanceof tf.Tensor
          ? [res]
          : this.outputs.map((o) => (res as Record<string, TfNs.Tensor>)[o.name]!)
      const out: Record<string, Tensor> = {}
      for (let i = 0; i < list.length; i++) {
        const name = this.outputs[i]?.name ?? `output_${i}`
        if (outputNames && !outputNames.includes(name)) continue
        const t = list[i]!
        out[name] = {dtype: t.dtype as DType, dims: [...t.shape], data: (await t.data()) as Tensor['data']}
        t.dispose()
      }
      return out
    } finally {
      for (const t of Object.values(named)) t.dispose()
    }
  }

  memoryBytes(): number {
    return this.tfb.tf.memory().numBytes
  }

  async dispose(): Promise<void> {
    ;(this.model as {dispose?: () => void}).dispose?.()
  }
}

function toInfo(t: {name: string; dtype: string; shape?: number[]}): TensorInfo {
  return {name: t.name, dtype: (t.dtype === 'float32' || !t.dtype ? 'float32' : t.dtype) as DType, shape: t.shape ? dims(t.shape) : null}
}
