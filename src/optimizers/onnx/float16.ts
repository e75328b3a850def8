/**
 * float16 conversion after onnxconverter-common's convert_float_to_float16(keep_io_types=True):
 * every float32 initializer becomes float16 (values clamped: 0 < |x| < 1e-7 → ±1e-7, |x| > 1e4 →
 * ±1e4), every float32 tensor inside the graph float16, graph inputs/outputs stay float32 through
 * Casts, and the ops of the block list run in float32 with Casts around them. Tensor types come from
 * a probe run, so int64 shape arithmetic is never touched.
 *
 * One departure, because clamping silently breaks real models: a node whose constant inputs reach
 * beyond 1e4 (they would be clamped — PP-OCR's detector head has a BatchNormalization with variances
 * of 1e7–1e8, which clamped to 1e4 turned its output map to noise) or whose outputs reached beyond
 * 1e4 on the probe inputs (float16 overflows at 65504; 1e4 leaves ×6.5 headroom for inputs the probe
 * did not see) stays in float32, its constants stay float32, and the report says why.
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {getAttr, tensorTypeOf, toNum} from '../../models/onnx/proto.js'
import {makeNode} from '../../models/onnx/builder.js'
import {makeTensor, tensorDims, tensorDType, tensorToFloat32} from '../../models/onnx/tensor.js'
import {clampForFloat16} from '../quant/math.js'
import {selects, type NameFilter} from '../select.js'
import {preparedCopy} from './graph.js'
import {emptyPlan, type TransformPlan} from './plan.js'

/** onnxconverter-common's DEFAULT_OP_BLOCK_LIST (the ops ORT and converters expect in float32). */
export const FLOAT16_BLOCK_LIST = [
  'ArrayFeatureExtractor',
  'Binarizer',
  'CastMap',
  'CategoryMapper',
  'DictVectorizer',
  'FeatureVectorizer',
  'Imputer',
  'LabelEncoder',
  'LinearClassifier',
  'LinearRegressor',
  'Normalizer',
  'OneHotEncoder',
  'RandomUniformLike',
  'SVMClassifier',
  'SVMRegressor',
  'Scaler',
  'TreeEnsembleClassifier',
  'TreeEnsembleRegressor',
  'ZipMap',
  'NonMaxSuppression',
  'TopK',
  'RoiAlign',
  'Resize',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'Upsample',
]

/** |x| above this stays float32: onnxconverter-common's clamp bound, ×6.5 below float16's 65504. */
export const FLOAT16_SAFE_MAX = 1e4

/**
 * @param floatRanges every float32 tensor of the graph with the largest |x| a probe run saw.
 */
export function convertFloat16(
  input: ModelProto,
  floatRanges: Map<string, number>,
  opts: {filter: NameFilter; keepFloat?: Set<string>; blockList?: string[]},
): {model: ModelProto; plan: TransformPlan} {
  const {model, idx} = preparedCopy(input)
  const g = model.graph!
  const plan = emptyPlan()
  const block = new Set(opts.blockList ?? FLOAT16_BLOCK_LIST)
  const floatTensors = new Set(floatRanges.keys())
  const constMax = new Map<string, number>()
  for (const t of g.initializer ?? []) {
    if (tensorDType(t) !== 'float32') continue
    floatTensors.add(t.name!)
    constMax.set(
      t.name!,
      tensorToFloat32(t).reduce((m, v) => Math.max(m, Math.abs(v)), 0),
    )
  }
  const outOfRange = (n: NodeProto): string | undefined => {
    const w = (n.input ?? []).filter((x) => (constMax.get(x) ?? 0) > FLOAT16_SAFE_MAX)
    if (w.length) return `constant ${w[0]} reaches ${fmtBig(constMax.get(w[0]!)!)}, beyond float16's safe range (would be clamped to 1e4)`
    const x = (n.input ?? []).filter((t) => !constMax.has(t) && (floatRanges.get(t) ?? 0) > FLOAT16_SAFE_MAX)
    if (x.length) return `input ${x[0]} reached ${fmtBig(floatRanges.get(x[0]!)!)} on the probe inputs, too near float16's 65504 limit`
    const y = (n.output ?? []).filter((t) => (floatRanges.get(t) ?? 0) > FLOAT16_SAFE_MAX)
    if (y.length) return `output ${y[0]} reached ${fmtBig(floatRanges.get(y[0]!)!)} on the probe inputs, too near float16's 65504 limit`
    return undefined
  }
  const whyStay = (n: NodeProto): string | undefined =>
    block.has(n.opType!)
      ? 'op is on the float16 block list: runs in float32 between Casts'
      : opts.keepFloat?.has(n.name!)
        ? 'kept in float32 by the accuracy-aware fallback'
        : (n.domain ?? '') !== ''
          ? `custom domain ${n.domain}`
          : !selects(opts.filter, n.name!)
            ? 'not selected by --include/--exclude'
            : outOfRange(n)
  const stays = new Map<NodeProto, string>()
  const computeOnly: TransformPlan['changed'] = []
  for (const n of g.node ?? []) {
    const why = whyStay(n)
    if (why) stays.set(n, why)
  }
  // constants read only by float32 nodes stay float32 (not clamped, no Cast back up)
  const readers = new Map<string, NodeProto[]>()
  for (const n of g.node ?? []) for (const x of n.input ?? []) if (constMax.has(x)) (readers.get(x) ?? readers.set(x, []).get(x)!).push(n)
  const keep32 = new Set([...readers].filter(([, ns]) => ns.every((n) => stays.has(n))).map(([x]) => x))

  let clamped = 0
  const newInits = (g.initializer ?? []).map((t) => {
    if (tensorDType(t) !== 'float32' || keep32.has(t.name!)) return t
    const v = tensorToFloat32(t)
    const c = new Float32Array(v.length)
    for (let i = 0; i < v.length; i++) {
      c[i] = clampForFloat16(v[i]!)
      if (c[i] !== v[i]) clamped++
    }
    return makeTensor(t.name, 'float16', tensorDims(t), Array.from(c))
  })
  g.initializer = newInits
  if (clamped) plan.notes.push(`${clamped} weight value(s) outside float16's useful range were clamped (|x| < 1e-7 → 1e-7, |x| > 1e4 → 1e4)`)

  const out: NodeProto[] = []
  const rename = new Map<string, string>()
  // float32 graph inputs: cast once at the top, everything inside reads the float16 copy
  for (const v of g.input ?? []) {
    if (idx.isConst(v.name!) || tensorTypeOf(v)?.elemType !== 1) continue
    const h = idx.unique(`${v.name}_fp16`)
    out.push(makeNode('Cast', [v.name!], [h], {to: 10}, idx.unique(`${v.name}_cast_to_fp16`)))
    rename.set(v.name!, h)
  }
  const outputs = new Set((g.output ?? []).filter((o) => tensorTypeOf(o)?.elemType === 1).map((o) => o.name!))
  const isFloat = (x: string) => floatTensors.has(x) || floatTensors.has(x.replace(/_fp16$/, ''))
  // Where the same values exist in float32, float32 nodes read them there (no float16 round trip);
  // float16 copies of float32 results are made only when a float16 node reads them.
  const fp32Of = new Map<string, string>()
  for (const [x, h] of rename) fp32Of.set(h, x)
  const pendingDown = new Map<string, string>()
  const castDown = (y: string) => {
    const f = pendingDown.get(y)
    if (f === undefined) return
    out.push(makeNode('Cast', [f], [y], {to: 10}, idx.unique(`${y}_cast_to_fp16`)))
    pendingDown.delete(y)
  }
  for (const n of g.node ?? []) {
    n.input = (n.input ?? []).map((x) => rename.get(x) ?? x)
    const why = stays.get(n)
    if (why) {
      n.input = n.input.map((x) => {
        if (!x || keep32.has(x)) return x
        const f = fp32Of.get(x)
        if (f) return f
        if (!isFloat(x)) return x
        castDown(x)
        const up = idx.unique(`${x}_fp32`)
        out.push(makeNode('Cast', [x], [up], {to: 1}, idx.unique(`${x}_cast_to_fp32`)))
        fp32Of.set(x, up)
        return up
      })
      out.push(n)
      for (let k = 0; k < (n.output ?? []).length; k++) {
        const y = n.output![k]!
        if (!floatTensors.has(y)) continue
        if (outputs.has(y)) {
          // a graph output keeps its float32 name; float16 readers get a copy named <y>_fp16
          const h = idx.unique(`${y}_fp16`)
          rename.set(y, h)
          fp32Of.set(h, y)
          pendingDown.set(h, y)
          continue
        }
        const f = idx.unique(`${y}_fp32out`)
        n.output![k] = f
        fp32Of.set(y, f)
        pendingDown.set(y, f)
      }
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: why})
      continue
    }
    for (const x of n.input) castDown(x)
    if (n.opType === 'Cast') {
      const to = getAttr(n, 'to')
      if (to && toNum(to.i) === 1) to.i = 10n
    }
    out.push(n)
    for (let k = 0; k < (n.output ?? []).length; k++) {
      const y = n.output![k]!
      if (!outputs.has(y)) continue
      const h = idx.unique(`${y}_fp16`)
      n.output![k] = h
      rename.set(y, h)
      out.push(makeNode('Cast', [h], [y], {to: 1}, idx.unique(`${y}_cast_to_fp32`)))
    }
    if (!(n.input ?? []).some((x) => idx.isConst(x) && floatTensors.has(x))) {
      if ([...n.input, ...n.output].some(isFloat)) computeOnly.push({node: n.name!, opType: n.opType!, weights: [], how: 'float16 compute'})
    } else
      plan.changed.push({
        node: n.name!,
        opType: n.opType!,
        weights: n.input.filter((x) => idx.isConst(x) && floatTensors.has(x)),
        how: 'float16 weights and compute',
      })
  }
  g.node = out
  g.valueInfo = []
  // Nodes are reported by the weights they convert; a model with no float weights at all (e.g. MatMul of two
  // inputs) still computes in float16, and those nodes are what changed (and what a fallback can keep).
  if (!plan.changed.length) plan.changed.push(...computeOnly)
  const ranged = [...stays.values()].filter((w) => /float16's (safe range|65504)/.test(w)).length
  if (ranged) plan.notes.push(`${ranged} node(s) kept in float32 because their values reach beyond float16's safe range (see skipped)`)
  return {model, plan}
}

const fmtBig = (x: number): string => (x >= 1e5 ? x.toExponential(2) : x.toFixed(0))
