/**
 * Folds BatchNormalization into the Conv before it (W' = W·γ/√(σ²+ε) per output channel,
 * b' = (b − μ)·γ/√(σ²+ε) + β), as ORT's quantisation pre-processing does: one weight to quantise
 * instead of a float BN after an int8 Conv.
 */
import type {ModelProto} from '../../models/onnx/proto.js'
import {attrFloat, attrInt} from '../../models/onnx/proto.js'
import {makeTensor} from '../../models/onnx/tensor.js'
import {GraphIndex} from './graph.js'

export function foldBatchNorm(model: ModelProto): number {
  const g = model.graph!
  let idx = new GraphIndex(model)
  let folded = 0
  for (const bn of [...(g.node ?? [])]) {
    if (bn.opType !== 'BatchNormalization' || (bn.output?.length ?? 0) !== 1) continue
    const conv = idx.producer.get(bn.input![0]!)
    if (!conv || conv.opType !== 'Conv' || attrInt(bn, 'training_mode', 0)) continue
    if ((idx.consumers.get(conv.output![0]!) ?? []).length !== 1 || idx.graphOutputs.has(conv.output![0]!)) continue
    const w = idx.floatConst(conv.input![1]!)
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => idx.floatConst(bn.input![k]!))
    if (!w || !gamma || !beta || !mean || !variance) continue
    if ((idx.consumers.get(conv.input![1]!) ?? []).length !== 1) continue
    const eps = attrFloat(bn, 'epsilon', 1e-5)
    const m = w.dims[0]!
    const per = w.data.length / m
    const bias = conv.input![2] ? idx.floatConst(conv.input![2]!)?.data : new Float32Array(m)
    if (!bias) continue
    const nw = new Float32Array(w.data.length)
    const nb = new Float32Array(m)
    for (let c = 0; c < m; c++) {
      const f = gamma.data[c]! / Math.sqrt(variance.data[c]! + eps)
      for (let i = 0; i < per; i++) nw[c * per + i] = w.data[c * per + i]! * f
      nb[c] = (bias[c]! - mean.data[c]!) * f + beta.data[c]!
    }
    const wName = idx.unique(`${conv.input![1]}_bnfolded`)
    const bName = idx.unique(`${conv.name}_bias_bnfolded`)
    g.initializer!.push(makeTensor(wName, 'float32', w.dims, nw), makeTensor(bName, 'float32', [m], nb))
    conv.input = [conv.input![0]!, wName, bName]
    conv.output = [bn.output![0]!]
    g.node = g.node!.filter((n) => n !== bn)
    folded++
    idx = new GraphIndex(model)
  }
  pruneUnusedInitializers(model)
  return folded
}

/** Drops initializers no node reads any more (and their stale graph-input entries). */
export function pruneUnusedInitializers(model: ModelProto): void {
  const g = model.graph!
  const used = new Set<string>()
  for (const n of g.node ?? []) for (const i of n.input ?? []) used.add(i)
  for (const o of g.output ?? []) used.add(o.name!)
  const removed = new Set((g.initializer ?? []).filter((t) => !used.has(t.name!)).map((t) => t.name!))
  g.initializer = (g.initializer ?? []).filter((t) => !removed.has(t.name!))
  g.input = (g.input ?? []).filter((v) => !removed.has(v.name!))
}
