/**
 * Folds per-output-channel affine ops that follow a Conv into its weights and bias, as ONNX Runtime's
 * basic graph optimisations do (ConvBNFusion, ConvMulFusion, ConvAddFusion) and so as its quantisation
 * pre-processing (quant_pre_process) leaves the graph: one weight to quantise, and no per-tensor int8
 * step between the Conv and a per-channel scale. That step matters: PP-LCNetV3 (the PP-OCRv4 detector's
 * backbone) scales every conv output channel by a learnt factor, so one activation scale for all
 * channels before that Mul throws away the small channels — its static int8 cosine was 0.65.
 *
 *   BatchNormalization: a = γ/√(σ²+ε), shift = β − μ·a
 *   Mul by s (per channel or scalar): a = s, shift = 0
 *   Add of t (per channel or scalar): a = 1, shift = t
 *   then W'[c] = W[c]·a[c], b'[c] = b[c]·a[c] + shift[c]
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {attrFloat, attrInt} from '../../models/onnx/proto.js'
import {makeTensor} from '../../models/onnx/tensor.js'
import {GraphIndex} from './graph.js'

export interface Folded {
  batchNormalization: number
  mul: number
  add: number
}

/** A constant that broadcasts as one value per channel of an [N, C, ...] tensor of rank r: its C values. */
function perChannel(c: {data: Float32Array; dims: number[]}, channels: number, rank: number): Float32Array | undefined {
  if (c.dims.length > rank) return undefined
  const d = [...Array(rank - c.dims.length).fill(1), ...c.dims] as number[]
  if (d[0] !== 1 || d.slice(2).some((x) => x !== 1) || (d[1] !== 1 && d[1] !== channels)) return undefined
  return c.data.length === channels ? c.data : new Float32Array(channels).fill(c.data[0]!)
}

/** The (a, shift) of an affine node after `conv`, or undefined when it is not one that can be folded. */
function affineOf(n: NodeProto, convOut: string, idx: GraphIndex, channels: number, rank: number): {a: Float32Array; shift: Float32Array} | undefined {
  if ((n.domain ?? '') !== '' || (n.output?.length ?? 0) !== 1) return undefined
  if (n.opType === 'BatchNormalization') {
    if (n.input![0] !== convOut || attrInt(n, 'training_mode', 0)) return undefined
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => idx.floatConst(n.input![k]!))
    if (!gamma || !beta || !mean || !variance) return undefined
    const eps = attrFloat(n, 'epsilon', 1e-5)
    const a = new Float32Array(channels)
    const shift = new Float32Array(channels)
    for (let c = 0; c < channels; c++) {
      a[c] = gamma.data[c]! / Math.sqrt(variance.data[c]! + eps)
      shift[c] = beta.data[c]! - mean.data[c]! * a[c]!
    }
    return {a, shift}
  }
  if (n.opType !== 'Mul' && n.opType !== 'Add') return undefined
  const other = n.input![0] === convOut ? n.input![1] : n.input![1] === convOut ? n.input![0] : undefined
  const k = other ? idx.floatConst(other) : undefined
  const v = k ? perChannel(k, channels, rank) : undefined
  if (!v) return undefined
  return n.opType === 'Mul' ? {a: v, shift: new Float32Array(channels)} : {a: new Float32Array(channels).fill(1), shift: v}
}

export function foldIntoConv(model: ModelProto): Folded {
  const g = model.graph!
  const folded: Folded = {batchNormalization: 0, mul: 0, add: 0}
  let changed = true
  while (changed) {
    changed = false
    const idx = new GraphIndex(model)
    for (const n of g.node ?? []) {
      const conv = idx.producer.get(n.input?.[0] ?? '') ?? idx.producer.get(n.input?.[1] ?? '')
      if (conv?.opType !== 'Conv' || (conv.domain ?? '') !== '') continue
      const y = conv.output![0]!
      if ((idx.consumers.get(y) ?? []).length !== 1 || idx.graphOutputs.has(y)) continue
      const w = idx.floatConst(conv.input![1]!)
      if (!w || (idx.consumers.get(conv.input![1]!) ?? []).length !== 1) continue
      const m = w.dims[0]!
      const bias = conv.input![2] ? idx.floatConst(conv.input![2]!)?.data : new Float32Array(m)
      if (!bias || (conv.input![2] && (idx.consumers.get(conv.input![2]!) ?? []).length !== 1)) continue
      const aff = affineOf(n, y, idx, m, w.dims.length)
      if (!aff) continue
      const per = w.data.length / m
      const nw = new Float32Array(w.data.length)
      const nb = new Float32Array(m)
      for (let c = 0; c < m; c++) {
        for (let i = 0; i < per; i++) nw[c * per + i] = w.data[c * per + i]! * aff.a[c]!
        nb[c] = bias[c]! * aff.a[c]! + aff.shift[c]!
      }
      const tag = n.opType === 'BatchNormalization' ? 'bnfolded' : `${n.opType!.toLowerCase()}folded`
      const wName = idx.unique(`${conv.input![1]}_${tag}`)
      const bName = idx.unique(`${conv.name}_bias_${tag}`)
      g.initializer!.push(makeTensor(wName, 'float32', w.dims, nw), makeTensor(bName, 'float32', [m], nb))
      conv.input = [conv.input![0]!, wName, bName]
      conv.output = [n.output![0]!]
      g.node = g.node!.filter((x) => x !== n)
      folded[n.opType === 'BatchNormalization' ? 'batchNormalization' : n.opType === 'Mul' ? 'mul' : 'add']++
      pruneUnusedInitializers(model)
      changed = true
      break
    }
  }
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
