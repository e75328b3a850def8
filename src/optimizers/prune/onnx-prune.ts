/**
 * ONNX pruning. Unstructured (magnitude, per layer or one global threshold; N:M along the input
 * dimension) zeroes weights in place: same shapes, smaller only once compressed. Structured removes
 * whole output neurons / conv filters with the smallest L2 norms, with the matching bias entries and
 * the matching input rows/channels of the next MatMul/Gemm/Conv, so the model really shrinks.
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {attrInt} from '../../models/onnx/proto.js'
import {makeTensor} from '../../models/onnx/tensor.js'
import {makeNode} from '../../models/onnx/builder.js'
import {TfsoptError} from '../../errors.js'
import {cloneModel, constantsToInitializers, GraphIndex, nameNodes} from '../onnx/graph.js'
import {pruneUnusedInitializers} from '../onnx/fold-conv.js'
import {emptyPlan, type TransformPlan} from '../onnx/plan.js'
import {selects, type NameFilter} from '../select.js'
import {applyThreshold, channelNorms, keepByNorm, magnitudeThreshold, nmPrune, sparsityOf, takeAlong} from './masks.js'

export type PruneMethod = 'magnitude' | 'n:m' | 'structured'
export interface PruneOptions {
  method: PruneMethod
  sparsity: number
  scope: 'layer' | 'global'
  n: number
  m: number
  filter: NameFilter
  stats?: StatsHook
}
export interface LayerReport {
  name: string
  weight: string
  shape: string
  sparsity: number
}

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

export async function pruneOnnx(input: ModelProto, opts: PruneOptions): Promise<{model: ModelProto; plan: TransformPlan; layers: LayerReport[]}> {
  const model = cloneModel(input)
  constantsToInitializers(model)
  nameNodes(model)
  const res = opts.method === 'structured' ? await structured(model, opts) : unstructured(model, opts)
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
  if (opts.method === 'n:m')
    for (const t of ts) if (t.dims[t.inAxis]! < opts.m) plan.notes.push(`${t.node.name}: input dimension ${t.dims[t.inAxis]} < m=${opts.m}`)
  const weights = ts.map((t) => idx.floatConst(t.w)!.data)
  const global = opts.method === 'magnitude' && opts.scope === 'global' ? magnitudeThreshold(weights, opts.sparsity) : undefined
  ts.forEach((t, k) => {
    const w = Float32Array.from(weights[k]!)
    if (opts.method === 'n:m') nmPrune(w, t.dims, t.inAxis, opts.n, opts.m)
    else applyThreshold(w, global ?? magnitudeThreshold([w], opts.sparsity))
    replaceInit(model, t.w, makeTensor(t.w, 'float32', t.dims, w))
    const s = sparsityOf(w)
    layers.push({name: t.node.name!, weight: t.w, shape: `[${t.dims.join(', ')}]`, sparsity: s})
    plan.changed.push({
      node: t.node.name!,
      opType: t.node.opType!,
      weights: [t.w],
      how: opts.method === 'n:m' ? `${opts.n}:${opts.m} along the input dimension` : `magnitude (${opts.scope}), ${(s * 100).toFixed(1)}% zeros`,
    })
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
/** After a Flatten only element-wise ops may follow (pools would need the spatial layout back). */
const ELEMENTWISE = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Clip', 'HardSigmoid', 'Elu', 'Selu', 'Softplus', 'Identity'])

/**
 * Per-feature statistics of one tensor over the calibration samples: mean and variance of every
 * element of a sample (C, or C·H·W values), in the tensor's own row-major order.
 */
export interface ActivationStats {
  mean: Float64Array
  variance: Float64Array
  samples: number
}
/** Gives the statistics of `tensor` in `model` (the model as pruned so far); undefined without data. */
export type StatsHook = (model: ModelProto, tensor: string) => Promise<ActivationStats | undefined>

interface Chain {
  next: NodeProto
  input: string
  flatten: boolean
  biasAdds: {node: NodeProto; c: string}[]
}

/** Follows a layer's output through per-channel ops (and a constant bias Add, a Flatten after a Conv) to exactly one next layer. */
function followChain(n: NodeProto, outSize: number, idx: GraphIndex): Chain | string {
  let cur = n.output![0]!
  const biasAdds: {node: NodeProto; c: string}[] = []
  let flatten = false
  for (;;) {
    const cons = idx.consumers.get(cur) ?? []
    if (idx.graphOutputs.has(cur)) return 'its output is a graph output'
    if (cons.length !== 1) return `its output has ${cons.length} consumers`
    const c = cons[0]!
    if ((flatten ? ELEMENTWISE : PASS).has(c.opType!) && c.input![0] === cur) {
      cur = c.output![0]!
      continue
    }
    if (c.opType === 'Flatten' && n.opType === 'Conv' && !flatten && attrInt(c, 'axis', 1) === 1) {
      flatten = true
      cur = c.output![0]!
      continue
    }
    if (c.opType === 'Add' && !flatten) {
      const other = c.input![0] === cur ? c.input![1]! : c.input![0]!
      const bc = idx.floatConst(other)
      if (bc && bc.data.length === outSize && n.opType !== 'Conv') {
        biasAdds.push({node: c, c: other})
        cur = c.output![0]!
        continue
      }
      return 'followed by an Add that is not a per-neuron constant bias'
    }
    if (PRUNABLE.includes(c.opType!) && c.input![0] === cur) {
      if ((c.opType === 'Conv') !== (n.opType === 'Conv' && !flatten))
        return `next layer ${c.name} (${c.opType}) does not read ${n.opType === 'Conv' ? (flatten ? 'a flattened' : 'a feature map') : 'neurons'} by channel`
      return {next: c, input: cur, flatten, biasAdds}
    }
    return `followed by ${c.opType}, which mixes or reshapes channels`
  }
}

/** Adds `delta` (one value per output of `node`) to its bias, creating or un-sharing the bias as needed. */
function addToBias(model: ModelProto, idx: GraphIndex, node: NodeProto, delta: Float64Array): string | undefined {
  const g = model.graph!
  const out = delta.length
  const add = (name: string | undefined, slotOf: (nm: string) => void): string | undefined => {
    const bc = name ? idx.floatConst(name) : undefined
    if (name && !bc) return `bias ${name} is not a float constant`
    if (bc && bc.data.length !== out && bc.data.length !== 1) return `bias ${name} of shape [${bc.dims}] is not one value per output`
    const base = new Float32Array(out)
    for (let o = 0; o < out; o++) base[o] = (bc ? bc.data[bc.data.length === 1 ? 0 : o]! : 0) + delta[o]!
    if (name && bc!.data.length === out && (idx.consumers.get(name) ?? []).length === 1) {
      replaceInit(model, name, makeTensor(name, 'float32', bc!.dims, base), idx)
      return undefined
    }
    // no bias, a broadcast scalar, or one shared with other nodes: a new per-output bias
    const fresh = idx.unique(`${node.name}.bias_compensated`)
    const t = makeTensor(fresh, 'float32', [out], base)
    ;(g.initializer ??= []).push(t)
    idx.inits.set(fresh, t)
    slotOf(fresh)
    return undefined
  }
  if (node.opType === 'Gemm' || node.opType === 'Conv') {
    return add(node.input![2] || undefined, (nm) => {
      const ins = [...node.input!]
      while (ins.length < 2) ins.push('')
      ins[2] = nm
      node.input = ins
    })
  }
  // MatMul: a following constant per-output Add is its bias; otherwise insert one
  const y = node.output![0]!
  const cons = idx.consumers.get(y) ?? []
  if (cons.length === 1 && cons[0]!.opType === 'Add' && !idx.graphOutputs.has(y)) {
    const a = cons[0]!
    const other = a.input![0] === y ? a.input![1]! : a.input![0]!
    const bc = idx.floatConst(other)
    if (bc && bc.data.length === out)
      return add(other, (nm) => {
        a.input = a.input!.map((x) => (x === other ? nm : x))
      })
  }
  const mid = idx.unique(`${y}_before_bias`)
  const bname = idx.unique(`${node.name}.bias_compensated`)
  ;(g.initializer ??= []).push(makeTensor(bname, 'float32', [out], Float32Array.from(delta)))
  const nodes = g.node!
  const at = nodes.indexOf(node)
  node.output = [mid]
  nodes.splice(at + 1, 0, makeNode('Add', [mid, bname], [y], {}, idx.unique(`${node.name}_bias_compensation`)))
  return undefined
}

async function structured(model: ModelProto, opts: PruneOptions) {
  let idx = new GraphIndex(model)
  const plan = emptyPlan()
  const layers: LayerReport[] = []
  const ts = targets(model, idx, opts, plan)
  for (const t of ts) {
    idx = new GraphIndex(model)
    const n = t.node
    if (n.opType === 'Conv' && attrInt(n, 'group', 1) !== 1) {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: 'grouped/depthwise convolution'})
      continue
    }
    const w1 = idx.floatConst(t.w)!
    t.dims = w1.dims
    const total = w1.dims[t.outAxis]!
    const chain = followChain(n, total, idx)
    if (typeof chain === 'string') {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: `not prunable structurally: ${chain}`})
      continue
    }
    const next = chain.next
    const na = weightAxes(next, idx)
    if (typeof na === 'string' || (next.opType === 'Conv' && attrInt(next, 'group', 1) !== 1)) {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: `next layer ${next.name} cannot lose inputs`})
      continue
    }
    if ((idx.consumers.get(t.w) ?? []).length !== 1 || (idx.consumers.get(na.w) ?? []).length !== 1) {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: 'weights shared with other nodes'})
      continue
    }
    const w2 = idx.floatConst(na.w)!
    const inSize = w2.dims[na.inAxis]!
    // rows of the next weight per removed channel: 1 (neurons, conv→conv), or H·W after a Flatten
    const block = chain.flatten ? inSize / total : 1
    if (!Number.isInteger(block) || (!chain.flatten && inSize !== total)) {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: `next layer ${next.name} has ${inSize} inputs for ${total} channels`})
      continue
    }
    const outNext = w2.dims[na.outAxis]!
    const nextStride = w2.dims.slice(na.inAxis + 1).reduce((x, y) => x * y, 1)
    const nextOuter = w2.dims.slice(0, na.inAxis).reduce((x, y) => x * y, 1)
    // W2 viewed as [outer][in][inner]; for MatMul/Gemm one of outer/inner is the output axis
    const w2At = (o: number, r: number, k: number) => w2.data[(o * inSize + r) * nextStride + k]!
    // outgoing squared norm of every input row r of the next layer
    const rowNorm2 = new Float64Array(inSize)
    for (let o = 0; o < nextOuter; o++) for (let r = 0; r < inSize; r++) for (let k = 0; k < nextStride; k++) rowNorm2[r]! += w2At(o, r, k) ** 2

    const stats = opts.stats ? await opts.stats(model, chain.input) : undefined
    const perChannel = stats && stats.mean.length % total === 0 ? stats.mean.length / total : 0
    const useStats = !!stats && perChannel > 0 && (chain.flatten ? perChannel === block : true)
    if (stats && !useStats)
      plan.notes.push(`${n.name}: activation statistics of ${chain.input} do not match its ${total} channels; ranked by weights only, no bias compensation`)
    // feature p of channel j in a sample: channel-major for feature maps (NCHW, and NCHW flattened),
    // channel-last for MatMul/Gemm inputs with extra axes ([N, T, C])
    const convLayout = next.opType === 'Conv' || chain.flatten
    const fi = (j: number, p: number) => (convLayout ? j * perChannel + p : p * total + j)
    // index of the next layer's output that tap (o, r, k) of its weight feeds; a conv's taps k all feed o
    const outIdx = (o: number, k: number) => (next.opType === 'Conv' || na.outAxis < na.inAxis ? o : k)
    const saliency = new Array<number>(total).fill(0)
    if (useStats) {
      // expected squared change of the next layer's pre-activations when channel j is replaced by its mean:
      // Σ over j's features of Var(a)·‖outgoing weights‖² (features taken as uncorrelated; without a
      // Flatten every position of channel j meets the same weights, so the variance is averaged)
      for (let j = 0; j < total; j++)
        for (let p = 0; p < perChannel; p++) {
          const v = stats!.variance[fi(j, p)]!
          saliency[j]! += chain.flatten ? v * rowNorm2[j * block + p]! : (v * rowNorm2[j]!) / perChannel
        }
    } else {
      // Data-free: the L2 norm of the incoming weights. ‖incoming‖·‖outgoing‖ was tried and measured
      // worse on the MNIST MLP at 30% (−10.65 vs −7.95 points; docs/OPTIMIZE.md), so it is not used.
      const inNorm = channelNorms(w1.data, w1.dims, t.outAxis)
      for (let j = 0; j < total; j++) saliency[j] = inNorm[j]!
    }
    const keep = keepByNorm(saliency, opts.sparsity)
    const kept = new Set(keep)

    // mean replacement: the removed channels' average contribution goes into the next layer's bias
    let compensation = ''
    if (useStats) {
      const delta = new Float64Array(outNext)
      for (let j = 0; j < total; j++) {
        if (kept.has(j)) continue
        for (let p = 0; p < perChannel; p++) {
          const m = stats!.mean[fi(j, p)]!
          if (m === 0) continue
          // after a Flatten each position has its own weight rows (exact); otherwise all positions share
          // row j, so the mean over positions is folded (exact for a conv away from padded borders)
          const r = chain.flatten ? j * block + p : j
          const share = chain.flatten ? m : m / perChannel
          for (let o = 0; o < nextOuter; o++) for (let k = 0; k < nextStride; k++) delta[outIdx(o, k)]! += w2At(o, r, k) * share
        }
      }
      const why = addToBias(model, idx, next, delta)
      if (why) plan.notes.push(`${n.name}: no bias compensation (${why})`)
      else {
        compensation = `; mean activation of the removed ${n.opType === 'Conv' ? 'filters' : 'neurons'} (${stats!.samples} samples) folded into ${next.name}'s bias`
        const padded =
          next.opType === 'Conv' &&
          (next.attribute ?? []).some(
            (x) =>
              (x.name === 'pads' && (x.ints ?? []).some((v) => Number(v) !== 0)) ||
              (x.name === 'auto_pad' && !['', 'NOTSET', 'VALID'].includes(Buffer.from(x.s ?? new Uint8Array()).toString())),
          )
        if (padded) plan.notes.push(`${next.name} pads its input: at the borders the compensation assumes the mean where the convolution sees zeros`)
      }
    }

    const nw1 = takeAlong(w1.data, w1.dims, t.outAxis, keep)
    replaceInit(model, t.w, makeTensor(t.w, 'float32', nw1.dims, nw1.data), idx)
    const b = n.input![2]
    if (b) {
      const bc = idx.floatConst(b)
      if (bc && bc.data.length === total) replaceInit(model, b, makeTensor(b, 'float32', [keep.length], takeAlong(bc.data, [total], 0, keep).data), idx)
      else if (bc && bc.data.length !== 1) throw new TfsoptError('E_UNSUPPORTED', `${n.name}: bias of shape [${bc.dims}] cannot be pruned`)
    }
    for (const ba of chain.biasAdds) {
      const bc = idx.floatConst(ba.c)!
      const nb = takeAlong(bc.data, [bc.data.length], 0, keep)
      replaceInit(
        model,
        ba.c,
        makeTensor(
          ba.c,
          'float32',
          bc.dims.map((d) => (d === total ? keep.length : d)),
          nb.data,
        ),
        idx,
      )
    }
    const rows = chain.flatten ? keep.flatMap((j) => Array.from({length: block}, (_, p) => j * block + p)) : keep
    const nw2 = takeAlong(w2.data, w2.dims, na.inAxis, rows)
    replaceInit(model, na.w, makeTensor(na.w, 'float32', nw2.dims, nw2.data), idx)
    layers.push({name: n.name!, weight: t.w, shape: `[${w1.dims.join(', ')}] → [${nw1.dims.join(', ')}]`, sparsity: 1 - keep.length / total})
    const what = n.opType === 'Conv' ? 'filters' : 'neurons'
    const rule = useStats ? 'lowest activation variance × outgoing weight norm²' : 'smallest incoming-weight L2 norm'
    plan.changed.push({
      node: n.name!,
      opType: n.opType!,
      weights: [t.w, na.w],
      how: `removed ${total - keep.length} of ${total} ${what} (${rule}) and the matching ${chain.flatten ? `${block}-row blocks of ${next.name}'s inputs (through Flatten)` : `inputs of ${next.name}`}${compensation}`,
    })
  }
  return {plan, layers}
}
