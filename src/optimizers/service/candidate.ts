/** Builders that turn "keep these units in float32" into a written model, per format and mode. */
import {writeModelBytes} from '../../models/memory-files.js'
import {encodeModel, readModel, type ModelProto} from '../../models/onnx/proto.js'
import {elementCount, tensorDims} from '../../models/onnx/tensor.js'
import {datasetFeeds, type Dataset} from '../../data/dataset.js'
import {fixedBatch} from '../../models/dtypes.js'
import {feedBatches} from '../evaluate/run.js'
import type {InferenceSession} from '../../runtime/types.js'
import {readModelJson, elementsOf} from '../../models/tfjs/artifacts.js'
import {cloneModel, constantsToInitializers} from '../onnx/graph.js'
import {quantizeDynamic} from '../onnx/dynamic.js'
import {prepareForStatic, quantizeStatic, tensorsToCalibrate} from '../onnx/static-qdq.js'
import {quantizeWeightOnly} from '../onnx/weight-only.js'
import {convertFloat16} from '../onnx/float16.js'
import {stripNames} from '../onnx/strip-names.js'
import {floatTensorRanges} from '../onnx/probe.js'
import {calibrate} from '../onnx/calibrate.js'
import {quantizeTfjs, type TfjsQuantDType} from '../tfjs/quantize.js'
import type {QuantOptions} from '../onnx/weights.js'
import type {TransformPlan} from '../onnx/plan.js'
import type {CalibrationMethod} from '../quant/calibration.js'
import {writeTfjsDir} from './files.js'

export type OnnxMode = 'dynamic' | 'static' | 'weight-only' | 'float16'

export interface Built {
  plan: TransformPlan
  write(path: string): void
}
export type Builder = (keepFloat: Set<string>) => Built

export interface Params {
  total: number
  changed: number
}

export interface OnnxBuildInput {
  path: string
  mode: OnnxMode
  quant: Omit<QuantOptions, 'keepFloat'>
  calibration?: {ds: Dataset; method: CalibrationMethod; percentile: number; samples: number}
  session: InferenceSession
  threads: number
  probeDs: Dataset
  /** --strip-names: short ids for internal tensors, no helper node names or doc strings */
  stripNames?: boolean
}

export async function onnxBuilder(a: OnnxBuildInput): Promise<{build: Builder; params: (plan: TransformPlan) => Params; notes: string[]}> {
  const model = readModel(a.path)
  const notes: string[] = []
  const withInits = cloneModel(model)
  constantsToInitializers(withInits)
  const sizes = new Map((withInits.graph!.initializer ?? []).map((t) => [t.name!, elementCount(tensorDims(t))]))
  const params = (plan: TransformPlan): Params => {
    const changed = new Set(plan.changed.flatMap((c) => c.weights))
    let total = 0
    for (const v of sizes.values()) total += v
    let ch = 0
    for (const w of changed) ch += sizes.get(w) ?? preparedSizes.get(w) ?? 0
    return {total, changed: ch}
  }
  const preparedSizes = new Map<string, number>()
  const originalNames = new Set((model.graph!.node ?? []).map((n) => n.name ?? '').filter(Boolean))
  const writer = (m: ModelProto, plan: TransformPlan): Built => {
    if (!a.stripNames) return {plan, write: (p) => writeModelBytes(p, encodeModel(m))}
    // Nodes the report names (including ones the transform named) keep their names.
    const keep = new Set([...originalNames, ...plan.changed.map((c) => c.node), ...plan.skipped.map((s) => s.node)])
    const r = stripNames(m, keep)
    const saved = encodeModel(m).length - encodeModel(r.model).length
    const note = `--strip-names: ${r.renamedTensors} internal tensor names became short ids and ${r.droppedNodeNames} helper node names were dropped (${saved} bytes); graph input/output names and original node names kept`
    return {plan: {...plan, notes: [...plan.notes, note]}, write: (p) => writeModelBytes(p, encodeModel(r.model))}
  }
  switch (a.mode) {
    case 'dynamic':
      return {
        build: (keep) => {
          const r = quantizeDynamic(model, {...a.quant, keepFloat: keep})
          return writer(r.model, r.plan)
        },
        params,
        notes,
      }
    case 'weight-only':
      return {
        build: (keep) => {
          const r = quantizeWeightOnly(model, {...a.quant, keepFloat: keep})
          return writer(r.model, r.plan)
        },
        params,
        notes,
      }
    case 'float16': {
      // a few samples, so the range guard sees more than one input's extremes
      // a few samples in one run (the model's own batch when its first dimension is fixed)
      const rows = fixedBatch(a.session.inputs) ?? Math.min(8, a.probeDs.count)
      const floats = await floatTensorRanges(withInits, datasetFeeds(a.probeDs, a.session.inputs, 0, rows), a.threads)
      return {
        build: (keep) => {
          const r = convertFloat16(model, floats, {filter: a.quant.filter, keepFloat: keep})
          return writer(r.model, r.plan)
        },
        params,
        notes,
      }
    }
    case 'static': {
      const prepared = prepareForStatic(model, notes)
      for (const t of prepared.graph!.initializer ?? []) preparedSizes.set(t.name!, elementCount(tensorDims(t)))
      const c = a.calibration!
      const tensors = tensorsToCalibrate(prepared, a.quant)
      const ranges = await calibrate(prepared, tensors, feedBatches(c.ds, a.session.inputs, c.samples, 16), {
        method: c.method,
        percentile: c.percentile,
        threads: a.threads,
      })
      notes.push(
        `calibrated ${ranges.size} activation tensors on ${Math.min(c.samples, c.ds.count)} samples of ${c.ds.source} (${c.method}${c.method === 'percentile' ? ` ${c.percentile}` : ''})`,
      )
      return {
        build: (keep) => {
          const r = quantizeStatic(prepared, ranges, {...a.quant, keepFloat: keep})
          return writer(r.model, r.plan)
        },
        params,
        notes,
      }
    }
  }
}

export function tfjsBuilder(path: string, dtype: TfjsQuantDType, filter: QuantOptions['filter']): {build: Builder; params: (plan: TransformPlan) => Params} {
  const json = readModelJson(path)
  const sizes = new Map(json.weightsManifest.flatMap((g) => g.weights).map((w) => [w.name, elementsOf(w.shape)]))
  return {
    build: (keep) => {
      const r = quantizeTfjs(path, dtype, {filter, keepFloat: keep})
      return {plan: r.plan, write: (dir) => writeTfjsDir(dir, r.json, r.shards)}
    },
    params: (plan) => ({total: [...sizes.values()].reduce((s, v) => s + v, 0), changed: plan.changed.reduce((s, c) => s + (sizes.get(c.node) ?? 0), 0)}),
  }
}
