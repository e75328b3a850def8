/**
 * ONNX pruning. Unstructured (magnitude, per layer or one global threshold; N:M along the input
 * dimension) zeroes weights in place: same shapes, smaller only once compressed. Structured removes
 * whole output neurons / conv filters with the smallest L2 norms, with the matching bias entries and
 * the matching input rows/channels of the next MatMul/Gemm/Conv, so the model really shrinks.
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {attrInt} from '../../models/onnx/proto.js'
import {makeTensor} from '../../models/onnx/tensor.js'
import {TfsoptError} from '../../errors.js'
import {cloneModel, constantsToInitializers, GraphIndex, nameNodes} from '../onnx/graph.js'
import {pruneUnusedInitializers} from '../onnx/fold-bn.js'
import {emptyPlan, type TransformPlan} from '../onnx/plan.js'
import {selects, type NameFilter} from '../select.js'
import {applyThreshold, channelNorms, keepByNorm, magnitudeThreshold, nmPrune, sparsityOf, takeAlong} from './masks.js'

export type PruneMethod = 'magnitude' | 'n:m' | 'structured'
export interface PruneOptions {method: PruneMethod; sparsity: number; scope: 'layer' | 'global'; n: number; m: number; filter: NameFilter}
export interface LayerReport {name: string; weight: string; shape: string; sparsity: number}

const PRUNABLE = ['MatMul', 'Gemm', 'Conv']

/** Weight name, its input (fan-in) axis and output axis, for a prunable node; or why not. */
function weightAxes(n: NodeProto, idx: GraphIndex): {w: string; inAxis: number; outAxis: number; dims: number[]} | string {
  if (!PRUNABLE.includes(n.opType!)) return `${n.opType} has no weight`
  const w = n.input?.[1]
  const c = w ? idx.floatConst(w) : undefined
  if (!c) return 'weight is not a float32 constant'
  if (n.opType === 'Conv') return c.dims.length === 4 ? {w: w!, inAxis: 1, outAxis: 0, dims: c.dims} : 'only 2-D convolutions'
  if (c.dims.length !== 2) return 'only 2-D weights'
  if (n.opType === 'Gemm' && attrInt(n, 'transA', 0)) return 'transA=1 not supported'
  const t = n.opType === 'Gemm' && attrInt(n, 'transB', 0) === 1
  return {w: w!, inAxis: t ? 1 : 0, outAxis: t ? 0 : 1, dims: c.dims}
}

export function pruneOnnx(input: ModelProto, opts: PruneOptions): {model: ModelProto; plan: TransformPlan; layers: LayerReport[]} {
  const model = cloneModel(input)
  constantsToInitializers(model)
  nameNodes(model)
  const res = opts.method === 'structured' ? structured(model, opts) : unstructured(model, opts)
  pruneUnusedInitializers(model)
  model.graph!.valueInfo = []
  return {model, ...res}
}

function targets(model: ModelProto, idx: GraphIndex, opts: PruneOptions, plan: TransformPlan) {
  const out: {node: NodeProto; w: string; inAxis: number; outAxis: number; dims: number[]}[] = []
  const seen = new Set<string>()
  for (const n of model.graph!.node ?? []) {
    if (!PRUNABLE.includes(n.opType!)) continue
    const a = weightAxes(n, idx)
    if (typeof a === 'string') plan.skipped.push({node: n.name!, opType: n.opType!, reason: a})
    else if (!selects(opts.filter, n.name!, a.w)) plan.skipped.push({node: n.name!, opType: n.opType!, reason: 'not selected by --include/--exclude'})
    else if (seen.has(a.w)) plan.skipped.push({node: n.name!, opType: n.opType!, reason: `weight ${a.w} is shared and already pruned`})
    else {
      seen.add(a.w)
      out.push({node: n, ...a})
    }
  }
  return out
}

function unstructured(model: ModelProto, opts: PruneOptions) {
  const idx = new GraphIndex(model)
  const plan = emptyPlan()
  const layers: LayerReport[] = []
  const ts = targets(model, idx, opts, plan)
  if (opts.method === 'n:m') for (const t of ts) if (t.dims[t.inAxis]! < opts.m) plan.notes.push(`${t.node.name}: input dimension ${t.dims[t.inAxis]} < m=${opts.m}`)
  const weights = ts.map((t) => idx.floatConst(t.w)!.data)
  const global = opts.method === 'magnitude' && opts.scope === 'global' ? magnitudeThreshold(weights, opts.sparsity) : undefined
  ts.forEach((t, k) => {
    const w = Float32Array.from(weights[k]!)
    if (opts.method === 'n:m') nmPrune(w, t.dims, t.inAxis, opts.n, opts.m)
    else applyThreshold(w, global ?? magnitudeThreshold([w], opts.sparsity))
    replaceInit(model, t.w, makeTensor(t.w, 'float32', t.dims, w))
    const s = sparsityOf(w)
    layers.push({name: t.node.name!, weight: t.w, shape: `[${t.dims.join(', ')}]`, sparsity: s})
    plan.changed.push({node: t.node.name!, opType: t.node.opType!, weights: [t.w], how: opts.method === 'n:m' ? `${opts.n}:${opts.m} along the input dimension` : `magnitude (${opts.scope}), ${(s * 100).toFixed(1)}% zeros`})
  })
  return {plan, layers}
}

/** Swaps an initializer, keeping the index current so later layers read the pruned weight. */
function replaceInit(model: ModelProto, name: string, t: ReturnType<typeof makeTensor>, idx?: GraphIndex) {
  const g = model.graph!
  g.initializer = (g.initializer ?? []).map((x) => (x.name === name ? t : x))
  idx?.inits.set(name, t)
}

/** Ops applied element by element per channel, which neuron removal passes through unchanged. */
const PASS = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'Elu', 'Selu', 'Softplus', 'Identity', 'MaxPool', 'AveragePool'])

function structured(model: ModelProto, opts: PruneOptions) {
  const idx = new GraphIndex(model)
  const plan = emptyPlan()
  const layers: LayerReport[] = []
  const ts = targets(model, idx, opts, plan)
  for (const t of ts) {
    const n = t.node
    if (n.opType === 'Conv' && attrInt(n, 'group', 1) !== 1) {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: 'grouped/depthwise convolution'})
      continue
    }
    // follow the output through per-channel ops (and a constant bias Add) to exactly one next layer
    let cur = n.output![0]!
    const biasAdds: {node: NodeProto; c: string}[] = []
    let next: NodeProto | undefined
    let why: string | undefined
    for (;;) {
      const cons = idx.consumers.get(cur) ?? []
      if (idx.graphOutputs.has(cur)) { why = 'its output is a graph output'; break }
      if (cons.length !== 1) { why = `its output has ${cons.length} consumers`; break }
      const c = cons[0]!
      if (PASS.has(c.opType!) && c.input![0] === cur) { cur = c.output![0]!; continue }
      if (c.opType === 'Add') {
        const other = c.input![0] === cur ? c.input![1]! : c.input![0]!
        const bc = idx.floatConst(other)
        if (bc && bc.data.length === t.dims[t.outAxis] && n.opType !== 'Conv') { biasAdds.push({node: c, c: other}); cur = c.output![0]!; continue }
        why = 'followed by an Add that is not a per-neuron constant bias'
        break
      }
      if (PRUNABLE.includes(c.opType!) && c.input![0] === cur) { next = c; break }
      why = `followed by ${c.opType}, which mixes or reshapes channels`
      break
    }
    if (!next) { plan.skipped.push({node: n.name!, opType: n.opType!, reason: `not prunable structurally: ${why}`}); continue }
    const na = weightAxes(next, idx)
    if (typeof na === 'string' || (next.opType === 'Conv') !== (n.opType === 'Conv') || (next.opType === 'Conv' && attrInt(next, 'group', 1) !== 1)) { plan.skipped.push({node: n.name!, opType: n.opType!, reason: `next layer ${next.name} cannot lose inputs`}); continue }
    if ((idx.consumers.get(t.w) ?? []).length !== 1 || (idx.consumers.get(na.w) ?? []).length !== 1) { plan.skipped.push({node: n.name!, opType: n.opType!, reason: 'weights shared with other nodes'}); continue }
    const w1 = idx.floatConst(t.w)!
    t.dims = w1.dims
    const keep = keepByNorm(channelNorms(w1.data, w1.dims, t.outAxis), opts.sparsity)
    const total = w1.dims[t.outAxis]!
    const nw1 = takeAlong(w1.data, w1.dims, t.outAxis, keep)
    replaceInit(model, t.w, makeTensor(t.w, 'float32', nw1.dims, nw1.data), idx)
    const b = n.input![2]
    if (b) {
      const bc = idx.floatConst(b)
      if (bc && bc.data.length === total) replaceInit(model, b, makeTensor(b, 'float32', [keep.length], takeAlong(bc.data, [total], 0, keep).data), idx)
      else if (bc && bc.data.length !== 1) throw new TfsoptError('E_UNSUPPORTED', `${n.name}: bias of shape [${bc.dims}] cannot be pruned`)
    }
    for (const ba of biasAdds) {
      const bc = idx.floatConst(ba.c)!
      const nb = takeAlong(bc.data, [bc.data.length], 0, keep)
      replaceInit(model, ba.c, makeTensor(ba.c, 'float32', bc.dims.map((d) => (d === total ? keep.length : d)), nb.data), idx)
    }
    const w2 = idx.floatConst(na.w)!
    const nw2 = takeAlong(w2.data, w2.dims, na.inAxis, keep)
    replaceInit(model, na.w, makeTensor(na.w, 'float32', nw2.dims, nw2.data), idx)
    layers.push({name: n.name!, weight: t.w, shape: `[${w1.dims.join(', ')}] → [${nw1.dims.join(', ')}]`, sparsity: 1 - keep.length / total})
    plan.changed.push({node: n.name!, opType: n.opType!, weights: [t.w, na.w], how: `removed ${total - keep.length} of ${total} ${n.opType === 'Conv' ? 'filters' : 'neurons'} (smallest L2 norm) and the matching inputs of ${next.name}`})
  }
  return {plan, layers}
}
