/**
 * float16 conversion after onnxconverter-common's convert_float_to_float16(keep_io_types=True):
 * every float32 initializer becomes float16 (values clamped: 0 < |x| < 1e-7 → ±1e-7, |x| > 1e4 →
 * ±1e4), every float32 tensor inside the graph float16, graph inputs/outputs stay float32 through
 * Casts, and the ops of the block list run in float32 with Casts around them. Tensor types come from
 * a probe run (`floatTensors`), so int64 shape arithmetic is never touched.
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {getAttr, toNum} from '../../models/onnx/proto.js'
import {makeNode} from '../../models/onnx/builder.js'
import {makeTensor, tensorDType, tensorToFloat32} from '../../models/onnx/tensor.js'
import {clampForFloat16} from '../quant/math.js'
import {selects, type NameFilter} from '../select.js'
import {preparedCopy} from './graph.js'
import {emptyPlan, type TransformPlan} from './plan.js'

/** onnxconverter-common's DEFAULT_OP_BLOCK_LIST (the ops ORT and converters expect in float32). */
export const FLOAT16_BLOCK_LIST = ['ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer', 'FeatureVectorizer', 'Imputer', 'LabelEncoder', 'LinearClassifier', 'LinearRegressor', 'Normalizer', 'OneHotEncoder', 'RandomUniformLike', 'SVMClassifier', 'SVMRegressor', 'Scaler', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'ZipMap', 'NonMaxSuppression', 'TopK', 'RoiAlign', 'Resize', 'Range', 'CumSum', 'Min', 'Max', 'Upsample']

export function convertFloat16(input: ModelProto, floatTensors: Set<string>, opts: {filter: NameFilter; keepFloat?: Set<string>; blockList?: string[]}): {model: ModelProto; plan: TransformPlan} {
  const {model, idx} = preparedCopy(input)
  const g = model.graph!
  const plan = emptyPlan()
  const block = new Set(opts.blockList ?? FLOAT16_BLOCK_LIST)
  const stay = (n: NodeProto) => block.has(n.opType!) || (n.domain ?? '') !== '' || opts.keepFloat?.has(n.name!) || !selects(opts.filter, n.name!)
  for (const t of g.initializer ?? []) if (tensorDType(t) === 'float32') floatTensors.add(t.name!)

  let clamped = 0
  const newInits = (g.initializer ?? []).map((t) => {
    if (tensorDType(t) !== 'float32') return t
    const v = tensorToFloat32(t)
    const c = new Float32Array(v.length)
    for (let i = 0; i < v.length; i++) {
      c[i] = clampForFloat16(v[i]!)
      if (c[i] !== v[i]) clamped++
    }
    return makeTensor(t.name!, 'float16', (t.dims ?? []).map((d) => toNum(d as number)), Array.from(c))
  })
  g.initializer = newInits
  if (clamped) plan.notes.push(`${clamped} weight value(s) outside float16's useful range were clamped (|x| < 1e-7 → 1e-7, |x| > 1e4 → 1e4)`)

  const out: NodeProto[] = []
  const rename = new Map<string, string>()
  // float32 graph inputs: cast once at the top, everything inside reads the float16 copy
  for (const v of g.input ?? []) {
    if (idx.isConst(v.name!) || v.type?.tensorType?.elemType !== 1) continue
    const h = idx.unique(`${v.name}_fp16`)
    out.push(makeNode('Cast', [v.name!], [h], {to: 10}, idx.unique(`${v.name}_cast_to_fp16`)))
    rename.set(v.name!, h)
  }
  const outputs = new Set((g.output ?? []).filter((o) => o.type?.tensorType?.elemType === 1).map((o) => o.name!))
  for (const n of g.node ?? []) {
    n.input = (n.input ?? []).map((x) => rename.get(x) ?? x)
    if (stay(n)) {
      // float32 island: cast float16 inputs up, outputs back down
      n.input = n.input.map((x) => {
        if (!x || !floatTensors.has(x.replace(/_fp16$/, '')) && !floatTensors.has(x)) return x
        const up = idx.unique(`${x}_fp32`)
        out.push(makeNode('Cast', [x], [up], {to: 1}, idx.unique(`${x}_cast_to_fp32_for_${n.name}`)))
        return up
      })
      out.push(n)
      for (let k = 0; k < (n.output ?? []).length; k++) {
        const y = n.output![k]!
        if (!floatTensors.has(y) || outputs.has(y)) continue
        const f = idx.unique(`${y}_fp32out`)
        n.output![k] = f
        out.push(makeNode('Cast', [f], [y], {to: 10}, idx.unique(`${y}_cast_to_fp16`)))
      }
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: block.has(n.opType!) ? 'op is on the float16 block list: runs in float32 between Casts' : opts.keepFloat?.has(n.name!) ? 'kept in float32 by the accuracy-aware fallback' : (n.domain ?? '') !== '' ? `custom domain ${n.domain}` : 'not selected by --include/--exclude'})
      continue
    }
    if (n.opType === 'Cast') {
      const to = getAttr(n, 'to')
      if (to && toNum(to.i as number) === 1) to.i = 10
    }
    out.push(n)
    for (let k = 0; k < (n.output ?? []).length; k++) {
      const y = n.output![k]!
      if (!outputs.has(y)) continue
      const h = idx.unique(`${y}_fp16`)
      n.output![k] = h
      out.push(makeNode('Cast', [h], [y], {to: 1}, idx.unique(`${y}_cast_to_fp32`)))
    }
    if ((n.input ?? []).some((x) => idx.isConst(x) && floatTensors.has(x))) plan.changed.push({node: n.name!, opType: n.opType!, weights: n.input.filter((x) => idx.isConst(x) && floatTensors.has(x)), how: 'float16 weights and compute'})
  }
  g.node = out
  g.valueInfo = []
  return {model, plan}
}
