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
import {computeScaleZp, int32BiasSafeWeightScales, qRange, quantizeBias} from '../quant/math.js'
import {cloneModel, constantsToInitializers, ensureOpset, GraphIndex, nameNodes} from './graph.js'
import {foldIntoConv, pruneUnusedInitializers} from './fold-conv.js'
import {emptyPlan, type TransformPlan} from './plan.js'
import {quantizedWeight, selectionReason, weightSlot, type QuantOptions, type QuantWeight} from './weights.js'

export const WEIGHT_OPS = ['Conv', 'ConvTranspose', 'MatMul', 'Gemm']
/** ORT QDQ registry ops tfsopt quantises by default (Softmax is left out: its probabilities lose most). */
export const STATIC_OPS = [
  ...WEIGHT_OPS,
  'Relu',
  'Clip',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Add',
  'Mul',
  'Concat',
  'Sigmoid',
  'HardSigmoid',
  'LeakyRelu',
  'Resize',
]

/** Tensor ranges from calibration: name → [min, max]. */
export type Ranges = Map<string, [number, number]>

/**
 * Prepares the graph as the quantiser will see it (constants as initializers, BatchNormalization and
 * per-channel Mul/Add folded into the Convs before them, names), and says what was folded.
 */
export function prepareForStatic(input: ModelProto, notes: string[] = []): ModelProto {
  const model = cloneModel(input)
  constantsToInitializers(model)
  const f = foldIntoConv(model)
  const parts = [
    [f.batchNormalization, 'BatchNormalization'],
    [f.mul, 'Mul'],
    [f.add, 'Add'],
  ]
    .filter(([k]) => (k as number) > 0)
    .map(([k, op]) => `${k} ${op}`)
  if (parts.length)
    notes.push(`folded ${parts.join(', ')} into the Convs before them (as ONNX Runtime's graph optimiser does), so their weights are quantised once`)
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

/**
 * ORT's QDQRemovableActivation: when a quantised op's output is read by a Relu and nothing else, the
 * Relu is redundant — its output range starts at 0, so the Q/DQ pair written with that range (zero
 * point at qmin) clamps negatives to 0 by itself. The Relu is removed and the op writes the Relu's
 * output tensor directly: one node and one Q/DQ pair fewer, as ORT's own QDQ graphs have. Not when the
 * Relu feeds a graph output (graph outputs get no Q/DQ, so nothing would clamp) or has no range.
 */
function removeFoldableRelus(model: ModelProto, idx: GraphIndex, targets: Set<NodeProto>, ranges: Ranges): NodeProto[] {
  const removed: NodeProto[] = []
  for (const relu of targets) {
    if (relu.opType !== 'Relu') continue
    const t = relu.input?.[0]
    const y = relu.output?.[0]
    const producer = t ? idx.producer.get(t) : undefined
    if (!t || !y || !producer || !targets.has(producer) || removed.includes(producer) || idx.consumers.get(t)?.length !== 1) continue
    if (idx.graphOutputs.has(t) || idx.graphOutputs.has(y) || !((ranges.get(y)?.[1] ?? 0) > 0)) continue
    producer.output = producer.output!.map((o) => (o === t ? y : o))
    removed.push(relu)
  }
  const gone = new Set(removed)
  model.graph!.node = (model.graph!.node ?? []).filter((n) => !gone.has(n))
  return removed
}

export function quantizeStatic(prepared: ModelProto, ranges: Ranges, opts: QuantOptions): {model: ModelProto; plan: TransformPlan} {
  const model = cloneModel(prepared)
  const g = model.graph!
  const first = new GraphIndex(model)
  const plan = emptyPlan()
  if (opts.perChannel) ensureOpset(model, 13, '--per-channel (per-axis DequantizeLinear)')
  else ensureOpset(model, 10, 'static quantisation (QuantizeLinear/DequantizeLinear)')
  const inits = g.initializer!
  const [aqmin, aqmax] = qRange(opts.activationType, {reduceRange: false})
  const symmetric = opts.weightType === 'int8'
  const actParams = new Map<string, {scale: number; zp: number; dq: string; sN: string; zN: string}>()
  const dqToOrig = new Map<string, string>()
  const wcache = new Map<string, QuantWeight>()
  const targets = new Set<NodeProto>()
  for (const n of g.node ?? []) {
    if ((n.domain ?? '') !== '' || !STATIC_OPS.includes(n.opType!)) continue
    const slot = WEIGHT_OPS.includes(n.opType!) ? weightSlot(n, first) : undefined
    const why = selectionReason(n, opts, STATIC_OPS, n.input?.[1]) ?? (typeof slot === 'string' ? slot : undefined)
    if (why) plan.skipped.push({node: n.name!, opType: n.opType!, reason: why})
    else targets.add(n)
  }
  const removed = removeFoldableRelus(model, first, targets, ranges)
  for (const relu of removed) targets.delete(relu)
  const idx = new GraphIndex(model)

  // One Q/DQ pair per activation tensor, placed right after its producer; every consumer reads the DQ.
  const qdq = new Map<string, NodeProto[]>()
  const want = new Set<string>()
  for (const n of targets) {
    for (const x of n.input ?? []) if (x && !idx.isConst(x)) want.add(x)
    for (const y of n.output ?? []) if (y && !idx.graphOutputs.has(y)) want.add(y)
  }
  const uncalibrated = new Set<string>()
  const fused = reluFusedRanges(idx, ranges)
  // MaxPool's output lies inside its input's range, so it reuses the input's scale and zero point
  // (ORT's direct 8-bit ops): no requantisation error, and ORT can run the pool on int8 directly.
  const sameAsInput = new Map<string, string>()
  for (const n of targets) if (n.opType === 'MaxPool' && n.input?.[0] && n.output?.[0]) sameAsInput.set(n.output[0], n.input[0])
  for (const t of want) {
    const shared = actParams.get(sameAsInput.get(t) ?? '')
    const r = fused.get(t) ?? ranges.get(t)
    if (!r && !shared) {
      uncalibrated.add(t)
      continue
    }
    let scale: number, zeroPoint: number, sN: string, zN: string
    if (shared) ({scale, zp: zeroPoint, sN, zN} = shared)
    else {
      ;({scale, zeroPoint} = computeScaleZp(r![0], r![1], aqmin, aqmax, false))
      sN = idx.unique(`${t}_scale`)
      zN = idx.unique(`${t}_zero_point`)
      inits.push(makeTensor(sN, 'float32', [], [scale]), makeTensor(zN, opts.activationType, [], [zeroPoint]))
    }
    const qN = idx.unique(`${t}_QuantizeLinear_Output`)
    const dN = idx.unique(`${t}_DequantizeLinear_Output`)
    qdq.set(t, [
      makeNode('QuantizeLinear', [t, sN, zN], [qN], {}, idx.unique(`${t}_QuantizeLinear`)),
      makeNode('DequantizeLinear', [qN, sN, zN], [dN], {}, idx.unique(`${t}_DequantizeLinear`)),
    ])
    actParams.set(t, {scale, zp: zeroPoint, dq: dN, sN, zN})
    dqToOrig.set(dN, t)
  }
  if (uncalibrated.size)
    plan.notes.push(
      `${uncalibrated.size} tensor(s) had no float range from calibration and stay float: ${[...uncalibrated].slice(0, 5).join(', ')}${uncalibrated.size > 5 ? ', ...' : ''}`,
    )

  const out: NodeProto[] = []
  const raised: string[] = []
  for (const t of idx.graphInputs) if (qdq.has(t)) out.push(...qdq.get(t)!)
  for (const n of g.node ?? []) {
    // every reader of a quantised tensor reads its dequantised copy (so ORT can fuse DQ→op→Q)
    n.input = (n.input ?? []).map((x) => (actParams.has(x) ? actParams.get(x)!.dq : x))
    if (targets.has(n) && WEIGHT_OPS.includes(n.opType!)) {
      const slot = weightSlot(n, idx)
      if (typeof slot !== 'string') {
        const wName = n.input[1]!
        const bias = n.input[2]
        const xp = actParams.get(dqToOrig.get(n.input[0] ?? '') ?? '')
        const bc = bias ? idx.floatConst(bias) : undefined
        const intBias = !!(bias && bc && xp && bc.dims.length === 1 && (n.opType === 'Conv' || n.opType === 'Gemm'))
        const adjustScales =
          intBias && symmetric ? {key: `${bias}@${xp!.scale}`, fn: (s: number[]) => int32BiasSafeWeightScales(bc!.data, xp!.scale, s)} : undefined
        const w = quantizedWeight(idx, inits, wcache, wName, opts.weightType, {
          symmetric,
          reduceRange: opts.reduceRange,
          axis: opts.perChannel ? slot.axis : undefined,
          adjustScales,
        })
        if (w.qt.raisedScales) raised.push(`${wName} (${w.qt.raisedScales})`)
        const wdq = idx.unique(`${wName}_DequantizeLinear_Output`)
        const dqAttrs: Record<string, number> = opts.perChannel ? {axis: slot.axis} : {}
        out.push(makeNode('DequantizeLinear', [w.q, w.scale, w.zp], [wdq], dqAttrs, idx.unique(`${wName}_DequantizeLinear`)))
        n.input[1] = wdq
        const weights = [wName]
        if (intBias && bias && bc && xp) {
          const qb = quantizeBias(bc.data, xp.scale, w.qt.scales)
          const bq = idx.unique(`${bias}_quantized`)
          const bs = idx.unique(`${bias}_quantized_scale`)
          const perAxis = qb.scales.length > 1
          inits.push(makeTensor(bq, 'int32', bc.dims, qb.data), makeTensor(bs, 'float32', perAxis ? [qb.scales.length] : [], Float32Array.from(qb.scales)))
          const bdq = idx.unique(`${bias}_DequantizeLinear_Output`)
          // no zero point: an int32 DequantizeLinear's is 0 by definition, and the input may omit it
          out.push(makeNode('DequantizeLinear', [bq, bs], [bdq], perAxis ? {axis: 0} : {}, idx.unique(`${bias}_DequantizeLinear`)))
          n.input[2] = bdq
          weights.push(bias)
        }
        plan.changed.push({
          node: n.name!,
          opType: n.opType!,
          weights,
          how: `QDQ ${opts.activationType} activations, ${opts.weightType} weights${opts.perChannel ? ' per-channel' : ''}`,
        })
      }
    } else if (targets.has(n)) plan.changed.push({node: n.name!, opType: n.opType!, weights: [], how: `QDQ ${opts.activationType} on inputs/outputs`})
    out.push(n)
    for (const y of n.output ?? []) if (qdq.has(y)) out.push(...qdq.get(y)!)
  }
  if (raised.length)
    plan.notes.push(
      `weight scales raised so the int32 bias cannot overflow (as ORT ≥ 1.20 does; these channels' weights are near zero): ${raised.slice(0, 5).join(', ')}${raised.length > 5 ? `, and ${raised.length - 5} more` : ''}`,
    )
  for (const relu of removed)
    plan.changed.push({node: relu.name!, opType: 'Relu', weights: [], how: 'removed: the Q/DQ on [0, max] before it clamps at 0 already (ORT does the same)'})
  // The Q node itself must read the float tensor, not its own DQ output.
  for (const [t, [q]] of qdq) q!.input![0] = t
  g.node = out
  pruneUnusedInitializers(model)
  g.valueInfo = []
  return {model, plan}
}
