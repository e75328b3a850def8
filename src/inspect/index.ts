/** `tfsopt inspect`: what a model is, what serves it, and what it costs per sample. */
import {statSync} from 'node:fs'
import {modelFileSize} from '../models/memory-files.js'
import {withSealed} from '../models/sealed/open.js'
import {keyId} from '../models/sealed/container.js'
import {dirname, resolve} from 'node:path'
import {detectModel} from '../models/detect.js'
import {TfsoptError, errorMessage} from '../errors.js'
import {readModel} from '../models/onnx/proto.js'
import {valueInfoToTensorInfo} from '../models/onnx/tensor.js'
import {isLayersModel, storedElementBytes, elementsOf, tfjsWeightDType, readTfjsModelJson} from '../models/tfjs/artifacts.js'
import type {DType, TensorInfo} from '../models/dtypes.js'
import {onnxStatic, sortCounts} from './onnx-static.js'
import {onnxCompute} from './onnx-compute.js'
import {kerasCompute, kerasLayerHistogram} from './keras-layers.js'
import {tfjsGraphCompute, type GraphNode} from './tfjs-graph.js'
import {runtimePlan} from './runtime-plan.js'
import {onnxDeviceRun} from './device-run.js'
import type {ComputeEstimate, InspectOptions, InspectReport} from './types.js'

export type {InspectReport, InspectOptions, ComputeEstimate} from './types.js'
export {parseInputShapes} from './input-shape.js'

const sizeOf = (p: string) => modelFileSize(p)

async function estimate(
  fn: () => Promise<ComputeEstimate> | ComputeEstimate,
  opts: InspectOptions,
): Promise<{compute: ComputeEstimate | null; computeError?: string}> {
  if (opts.noCompute) return {compute: null, computeError: 'skipped (--no-compute)'}
  try {
    return {compute: await fn()}
  } catch (err) {
    // A usage mistake (bad --input-shape) is the user's to fix; anything else leaves the rest of the report useful.
    if (err instanceof TfsoptError && err.code === 'E_USAGE') throw err
    return {compute: null, computeError: errorMessage(err)}
  }
}

export async function inspectModel(input: string, opts: InspectOptions = {}): Promise<InspectReport> {
  const det = detectModel(input)
  if (det.format === 'savedmodel') {
    throw new TfsoptError(
      'E_UNSUPPORTED',
      `${det.path} is a TensorFlow SavedModel; inspect reads ONNX and TF.js models (convert it with tf2onnx or tensorflowjs_converter)`,
    )
  }
  const runtime = runtimePlan(det.format)
  // An encrypted model is read from memory while it is mounted (decrypted), and only then.
  const report = await withSealed(det.sealed, async () => {
    if (det.format === 'onnx') {
      const r = await inspectOnnx(det.path, runtime, opts)
      if (opts.device) r.runtime = await onnxDeviceRun(det.path, r.inputs, opts.device, opts.inputShapes)
      return r
    }
    return inspectTfjs(det.path, runtime, opts)
  })
  if (det.sealed)
    report.encrypted = {container: det.sealed.container, containerBytes: statSync(det.sealed.container).size, keyId: keyId(det.sealed.key).toString('hex')}
  return report
}

async function inspectOnnx(path: string, runtime: InspectReport['runtime'], opts: InspectOptions): Promise<InspectReport> {
  const model = readModel(path)
  const g = model.graph!
  const initNames = new Set((g.initializer ?? []).map((t) => t.name))
  const st = onnxStatic(model)
  const {compute, computeError} = await estimate(() => onnxCompute(model, opts.inputShapes), opts)
  return {
    path,
    format: 'onnx',
    kind: 'onnx',
    fileBytes: sizeOf(path),
    files: [path],
    producer: st.producer,
    opset: st.opset,
    runtime,
    inputs: (g.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(valueInfoToTensorInfo),
    outputs: (g.output ?? []).map(valueInfoToTensorInfo),
    ops: st.ops,
    nodeCount: st.nodeCount,
    parameters: st.parameters,
    weightBytes: st.weightBytes,
    compute,
    computeError,
  }
}

const TF_DTYPE: Record<string, DType> = {
  DT_FLOAT: 'float32',
  DT_INT32: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
  DT_HALF: 'float16',
  DT_INT64: 'int64',
  DT_UINT8: 'uint8',
}

async function inspectTfjs(path: string, runtime: InspectReport['runtime'], opts: InspectOptions): Promise<InspectReport> {
  const json = readTfjsModelJson(path)
  const dir = dirname(resolve(path))
  const files = [path, ...json.weightsManifest.flatMap((gr) => gr.paths.map((p) => resolve(dir, p)))]
  const fileBytes = files.reduce((s, f) => s + (tryStat(f) ?? tryStat(`${f}.min.js`) ?? tryStat(f.replace(/(\.bin)?$/, '.min.js')) ?? 0), 0)
  let parameters = 0
  const weightBytes: Record<string, number> = {}
  for (const w of json.weightsManifest.flatMap((gr) => gr.weights)) {
    const n = elementsOf(w.shape)
    const dt = tfjsWeightDType(w)
    weightBytes[dt] = (weightBytes[dt] ?? 0) + n * storedElementBytes(w)
    if (w.dtype === 'float32' || w.quantization?.original_dtype === 'float32' || (w.quantization && w.dtype !== 'int32')) parameters += n
  }
  const producer = [json.generatedBy, json.convertedBy].filter(Boolean).join(', ') || undefined
  const base = {path, format: 'tfjs' as const, fileBytes, files, producer, opset: null, runtime, parameters, weightBytes}
  if (isLayersModel(json)) {
    const ops = kerasLayerHistogram(json.modelTopology)
    const {inputs, outputs} = kerasIo(json.modelTopology)
    const {compute, computeError} = await estimate(() => kerasCompute(json.modelTopology, opts.inputShapes), opts)
    return {
      ...base,
      kind: 'tfjs-layers',
      inputs,
      outputs,
      ops: sortCounts(ops),
      nodeCount: Object.values(ops).reduce((a, b) => a + b, 0),
      compute,
      computeError,
    }
  }
  const nodes = (json.modelTopology as {node?: GraphNode[]}).node ?? []
  const ops: Record<string, number> = {}
  for (const n of nodes) ops[n.op] = (ops[n.op] ?? 0) + 1
  const inputs: TensorInfo[] = nodes
    .filter((n) => n.op === 'Placeholder')
    .map((n) => ({
      name: n.name,
      dtype: TF_DTYPE[n.attr?.dtype?.type ?? 'DT_FLOAT'] ?? 'unknown',
      shape: n.attr?.shape?.shape?.unknownRank ? null : (n.attr?.shape?.shape?.dim ?? []).map((d) => (Number(d.size ?? -1) < 0 ? null : Number(d.size))),
    }))
  const consumed = new Set(nodes.flatMap((n) => (n.input ?? []).map((r) => r.replace(/^\^/, '').split(':')[0])))
  const outputs: TensorInfo[] = nodes
    .filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && !consumed.has(n.name))
    .map((n) => ({name: n.name, dtype: 'float32', shape: null}))
  const {compute, computeError} = await estimate(() => tfjsGraphCompute(path, nodes, inputs, opts.inputShapes), opts)
  return {...base, kind: 'tfjs-graph', inputs, outputs, ops: sortCounts(ops), nodeCount: nodes.length, compute, computeError}
}

function tryStat(p: string): number | undefined {
  try {
    return modelFileSize(p)
  } catch {
    return undefined
  }
}

function kerasIo(topology: unknown): {inputs: TensorInfo[]; outputs: TensorInfo[]} {
  const t = topology as Record<string, unknown>
  const m = (t.model_config ?? t) as {
    class_name?: string
    config?:
      | {layers?: {name: string; class_name: string; config: Record<string, unknown>}[]; output_layers?: unknown[][]; input_layers?: unknown[][]}
      | unknown[]
  }
  const cfg = m.config
  const layers = (Array.isArray(cfg) ? cfg : (cfg?.layers ?? [])) as {name: string; class_name: string; config: Record<string, unknown>}[]
  const shapeOf = (l: {config: Record<string, unknown>}) => (l.config.batch_input_shape ?? l.config.batchInputShape ?? null) as (number | null)[] | null
  const dt = (l: {config: Record<string, unknown>}) => (l.config.dtype as DType | undefined) ?? 'float32'
  if (m.class_name === 'Sequential' || Array.isArray(cfg)) {
    const first = layers[0]
    const last = layers[layers.length - 1]
    return {
      inputs: first ? [{name: first.name, dtype: dt(first), shape: shapeOf(first)}] : [],
      outputs: last ? [{name: last.name, dtype: 'float32', shape: null}] : [],
    }
  }
  const c = cfg as {input_layers?: unknown[][]; output_layers?: unknown[][]}
  const byName = new Map(layers.map((l) => [l.name, l]))
  return {
    inputs: (c.input_layers ?? [])
      .map((e) => byName.get(e[0] as string))
      .filter((l) => l !== undefined)
      .map((l) => ({name: l.name, dtype: dt(l), shape: shapeOf(l)})),
    outputs: (c.output_layers ?? []).map((e) => ({name: e[0] as string, dtype: 'float32' as DType, shape: null})),
  }
}
