/**
 * Weight-only quantisation: each selected float weight is stored as int8 (symmetric; uint8
 * asymmetric) plus a DequantizeLinear that re-creates the float tensor under its original name at
 * load. The file shrinks about 4×; the arithmetic is unchanged float32, so latency is too.
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {makeNode} from '../../models/onnx/builder.js'
import {ensureOpset, preparedCopy} from './graph.js'
import {pruneUnusedInitializers} from './fold-conv.js'
import {emptyPlan, type TransformPlan} from './plan.js'
import {quantizedWeight, selectionReason, weightSlot, type QuantOptions, type QuantWeight} from './weights.js'

export const WEIGHT_ONLY_OPS = ['MatMul', 'Gemm', 'Conv', 'ConvTranspose']

export function quantizeWeightOnly(input: ModelProto, opts: QuantOptions): {model: ModelProto; plan: TransformPlan} {
  const {model, idx} = preparedCopy(input)
  const g = model.graph!
  const plan = emptyPlan()
  if (opts.perChannel) ensureOpset(model, 13, '--per-channel (per-axis DequantizeLinear)')
  const head: NodeProto[] = []
  const done = new Map<string, string>()
  const cache = new Map<string, QuantWeight>()
  for (const n of g.node ?? []) {
    if (!WEIGHT_ONLY_OPS.includes(n.opType!) || (n.domain ?? '') !== '') continue
    const slot = weightSlot(n, idx)
    const why = selectionReason(n, opts, WEIGHT_ONLY_OPS, n.input?.[1]) ?? (typeof slot === 'string' ? slot : undefined)
    if (why || typeof slot === 'string') {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: why!})
      continue
    }
    const wName = n.input![slot.index]!
    let dq = done.get(wName)
    if (!dq) {
      const w = quantizedWeight(idx, g.initializer!, cache, wName, opts.weightType, {
        symmetric: opts.weightType === 'int8',
        reduceRange: opts.reduceRange,
        axis: opts.perChannel ? slot.axis : undefined,
      })
      dq = idx.unique(`${wName}_dequantized`)
      head.push(makeNode('DequantizeLinear', [w.q, w.scale, w.zp], [dq], opts.perChannel ? {axis: slot.axis} : {}, idx.unique(`${wName}_DequantizeLinear`)))
      done.set(wName, dq)
    }
    n.input![slot.index] = dq
    plan.changed.push({
      node: n.name!,
      opType: n.opType!,
      weights: [wName],
      how: `${opts.weightType} weight + DequantizeLinear${opts.perChannel ? ' per-channel' : ''}`,
    })
  }
  if (plan.changed.length) ensureOpset(model, opts.perChannel ? 13 : 10, 'weight-only quantisation (DequantizeLinear)')
  g.node = [...head, ...(g.node ?? [])]
  pruneUnusedInitializers(model)
  return {model, plan}
}
