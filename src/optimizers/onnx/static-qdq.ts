/**
 * Static quantisation in QDQ format (ORT's quantize_static default): every activation tensor read or
 * written by a selected op gets QuantizeLinear→DequantizeLinear with a scale/zero point fixed from
 * calibration ranges; weights are stored int8 (symmetric, per tensor or per output channel) behind a
 * DequantizeLinear, biases int32 with scale input_scale·weight_scale. ORT then fuses DQ→op→Q into
 * QLinear kernels where it has them, and runs the rest in float between Q/DQ pairs.
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {makeNode} from '../../models/onnx/builder.js'
import {makeTensor} from '../../models/onnx/tensor.js'
import {computeScaleZp, qRange, quantizeBias} from '../quant/math.js'
import {cloneModel, constantsToInitializers, ensureOpset, GraphIndex, nameNodes} from './graph.js'
import {foldBatchNorm, pruneUnusedInitializers} from './fold-bn.js'
import {emptyPlan, type TransformPlan} from './plan.js'
import {quantizedWeight, selectionReason, weightSlot, type QuantOptions, type QuantWeight} from './weights.js'

export const WEIGHT_OPS = ['Conv', 'ConvTranspose', 'MatMul', 'Gemm']
/** ORT QDQ registry ops tfsopt quantises by default (Softmax is left out: its probabilities lose most). */
export const STATIC_OPS = [...WEIGHT_OPS, 'Relu', 'Clip', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Add', 'Mul', 'Concat', 'Sigmoid', 'HardSigmoid', 'LeakyRelu', 'Resize']

/** Tensor ranges from calibration: name → [min, max]. */
export type Ranges = Map<string, [number, number]>

/** Prepares the graph as the quantiser will see it (constants as initializers, BN folded, names). */
export function prepareForStatic(input: ModelProto): ModelProto {
  const model = cloneModel(input)
  constantsToInitializers(model)
  foldBatchNorm(model)
  nameNodes(model)
  return model
}

/** The activation tensors whose ranges calibration must measure for this selection. */
export function tensorsToCalibrate(model: ModelProto, opts: QuantOptions): string[] {
  const idx = new GraphIndex(model)
  const set = new Set<string>()
  for (const n of model.graph!.node ?? []) {
    if (!isTarget(n, idx, opts)) continue
    for (const x of n.input ?? []) if (x && !idx.isConst(x)) set.add(x)
    for (const y of n.output ?? []) if (y && !idx.graphOutputs.has(y)) set.add(y)
  }
  return [...set]
}

function isTarget(n: NodeProto, idx: GraphIndex, opts: QuantOptions): boolean {
  if ((n.domain ?? '') !== '') return false
  if (selectionReason(n, opts, STATIC_OPS, n.input?.[1])) return false
  return !WEIGHT_OPS.includes(n.opType!) || typeof weightSlot(n, idx) !== 'string'
}

/**
 * A tensor whose only reader is a Relu takes the Relu output's range ([0, max]), as ORT's QDQ quantizer
 * does when it folds a Relu into the op before it (QDQRemovableActivation): quantising x with a range
 * starting at 0 clamps the negatives to the zero point, which *is* the Relu, so no resolution is spent on
 * values the Relu discards — and a calibration method that fits a signed pre-activation distribution
 * (Entropy on a conv output whose blank-background pixels pile up at the bias values) cannot clip the
 * positive side that matters.
 */
export function reluFusedRanges(idx: GraphIndex, ranges: Ranges): Ranges {
  const out: Ranges = new Map()
  for (const [t, cons] of idx.consumers) {
    if (cons.length !== 1 || idx.graphOutputs.has(t) || idx.graphInputs.has(t) || idx.isConst(t)) continue
    const r = cons[0]!
    if (r.opType !== 'Relu' || (r.domain ?? '') !== '' || r.input?.[0] !== t) continue
    const after = ranges.get(r.output![0]!)
    if (after && after[1] > 0) out.set(t, [0, after[1]])
  }
  return out
}

export function quantizeStatic(prepared: ModelProto, ranges: Ranges, opts: QuantOptions): {model: ModelProto; plan: TransformPlan} {
  const model = cloneModel(prepared)
  const g = model.graph!
  const idx = new GraphIndex(model)
  const plan = emptyPlan()
  if (opts.perChannel) ensureOpset(model, 13, '--per-channel (per-axis DequantizeLinear)')
  else ensureOpset(model, 10, 'static quantisation (QuantizeLinear/DequantizeLinear)')
  const inits = g.initializer!
  const [aqmin, aqmax] = qRange(opts.activationType, {reduceRange: false})
  const symmetric = opts.weightType === 'int8'
  const actParams = new Map<string, {scale: number; zp: number; dq: string}>()
  const dqToOrig = new Map<string, string>()
  const wcache = new Map<string, QuantWeight>()
  const targets = new Set<NodeProto>()
  for (const n of g.node ?? []) {
    if ((n.domain ?? '') !== '' || !STATIC_OPS.includes(n.opType!)) continue
    const slot = WEIGHT_OPS.includes(n.opType!) ? weightSlot(n, idx) : undefined
    const why = selectionReason(n, opts, STATIC_OPS, n.input?.[1]) ?? (typeof slot === 'string' ? slot : undefined)
    if (why) plan.skipped.push({node: n.name!, opType: n.opType!, reason: why})
    else targets.add(n)
  }

  // One Q/DQ pair per activation tensor, placed right after its producer; every consumer reads the DQ.
  const qdq = new Map<string, NodeProto[]>()
  const want = new Set<string>()
  for (const n of targets) {
    for (const x of n.input ?? []) if (x && !idx.isConst(x)) want.add(x)
    for (const y of n.output ?? []) if (y && !idx.graphOutputs.has(y)) want.add(y)
  }
  const uncalibrated = new Set<string>()
  const fused = reluFusedRanges(idx, ranges)
  for (const t of want) {
    const r = fused.get(t) ?? ranges.get(t)
    if (!r) {
      uncalibrated.add(t)
      continue
    }
    const {scale, zeroPoint} = computeScaleZp(r[0], r[1], aqmin, aqmax, false)
    const sN = idx.unique(`${t}_scale`)
    const zN = idx.unique(`${t}_zero_point`)
    const qN = idx.unique(`${t}_QuantizeLinear_Output`)
    const dN = idx.unique(`${t}_DequantizeLinear_Output`)
    inits.push(makeTensor(sN, 'float32', [], [scale]), makeTensor(zN, opts.activationType, [], [zeroPoint]))
    qdq.set(t, [makeNode('QuantizeLinear', [t, sN, zN], [qN], {}, idx.unique(`${t}_QuantizeLinear`)), makeNode('DequantizeLinear', [qN, sN, zN], [dN], {}, idx.unique(`${t}_DequantizeLinear`))])
    actParams.set(t, {scale, zp: zeroPoint, dq: dN})
    dqToOrig.set(dN, t)
  }
  if (uncalibrated.size) plan.notes.push(`${uncalibrated.size} tensor(s) had no float range from calibration and stay float: ${[...uncalibrated].slice(0, 5).join(', ')}${uncalibrated.size > 5 ? ', ...' : ''}`)

  const out: NodeProto[] = []
  for (const t of idx.graphInputs) if (qdq.has(t)) out.push(...qdq.get(t)!)
  for (const n of g.node ?? []) {
    // every reader of a quantised tensor reads its dequantised copy (so ORT can fuse DQ→op→Q)
    n.input = (n.input ?? []).map((x) => (actParams.has(x) ? actParams.get(x)!.dq : x))
    if (targets.has(n) && WEIGHT_OPS.includes(n.opType!)) {
      const slot = weightSlot(n, idx)
      if (typeof slot !== 'string') {
        const wName = n.input[1]!
        const w = quantizedWeight(idx, inits, wcache, wName, opts.weightType, {symmetric, reduceRange: opts.reduceRange, axis: opts.perChannel ? slot.axis : undefined})
        const wdq = idx.unique(`${wName}_DequantizeLinear_Output`)
        const dqAttrs: Record<string, number> = opts.perChannel ? {axis: slot.axis} : {}
        out.push(makeNode('DequantizeLinear', [w.q, w.scale, w.zp], [wdq], dqAttrs, idx.unique(`${wName}_DequantizeLinear`)))
        n.input[1] = wdq
        const weights = [wName]
        const bias = n.input[2]
        const xIn = dqToOrig.get(n.input[0] ?? '') ?? ''
        const xp = actParams.get(xIn)
        const bc = bias ? idx.floatConst(bias) : undefined
        if (bias && bc && xp && bc.dims.length === 1 && (n.opType === 'Conv' || n.opType === 'Gemm')) {
          const qb = quantizeBias(bc.data, xp.scale, w.qt.scales)
          const bq = idx.unique(`${bias}_quantized`)
          const bs = idx.unique(`${bias}_quantized_scale`)
          const bz = idx.unique(`${bias}_quantized_zero_point`)
          const perAxis = qb.scales.length > 1
          inits.push(makeTensor(bq, 'int32', bc.dims, qb.data), makeTensor(bs, 'float32', perAxis ? [qb.scales.length] : [], Float32Array.from(qb.scales)), makeTensor(bz, 'int32', perAxis ? [qb.scales.length] : [], new Int32Array(qb.scales.length)))
          const bdq = idx.unique(`${bias}_DequantizeLinear_Output`)
          out.push(makeNode('DequantizeLinear', [bq, bs, bz], [bdq], perAxis ? {axis: 0} : {}, idx.unique(`${bias}_DequantizeLinear`)))
          n.input[2] = bdq
          weights.push(bias)
        }
        plan.changed.push({node: n.name!, opType: n.opType!, weights, how: `QDQ ${opts.activationType} activations, ${opts.weightType} weights${opts.perChannel ? ' per-channel' : ''}`})
      }
    } else if (targets.has(n)) plan.changed.push({node: n.name!, opType: n.opType!, weights: [], how: `QDQ ${opts.activationType} on inputs/outputs`})
    out.push(n)
    for (const y of n.output ?? []) if (qdq.has(y)) out.push(...qdq.get(y)!)
  }
  // The Q node itself must read the float tensor, not its own DQ output.
  for (const [t, [q]] of qdq) q!.input![0] = t
  g.node = out
  pruneUnusedInitializers(model)
  g.valueInfo = []
  return {model, plan}
}
