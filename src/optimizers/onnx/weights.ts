/** Shared by the ONNX quantisers: options, candidate checks and quantised-weight initializers. */
import type {NodeProto, TensorProto} from '../../models/onnx/proto.js'
import {attrFloat, attrInt} from '../../models/onnx/proto.js'
import {makeTensor} from '../../models/onnx/tensor.js'
import {quantizeWeight, type QType, type QuantizedTensor} from '../quant/math.js'
import {selects, type NameFilter} from '../select.js'
import type {GraphIndex} from './graph.js'

export interface QuantOptions {
  opTypes?: string[]
  filter: NameFilter
  perChannel: boolean
  reduceRange: boolean
  weightType: QType
  activationType: QType
  /** Nodes to leave in float32 (accuracy-aware fallback). */
  keepFloat?: Set<string>
}

export interface QuantWeight {
  q: string
  scale: string
  zp: string
  qt: QuantizedTensor
}

/** Where a node's weight is and along which axis its output channels run. */
export interface WeightSlot {
  index: number
  axis: number
}

/** The constant weight input of a MatMul/Gemm/Conv/ConvTranspose, or why there is none. */
export function weightSlot(n: NodeProto, idx: GraphIndex): WeightSlot | string {
  const ins = n.input ?? []
  switch (n.opType) {
    case 'MatMul': {
      const b = idx.floatConst(ins[1]!)
      if (!b) return 'B is not a float32 constant (activation × activation MatMul)'
      if (b.dims.length !== 2) return `B has rank ${b.dims.length}; only 2-D weights are quantised`
      return {index: 1, axis: 1}
    }
    case 'Gemm': {
      if (!idx.floatConst(ins[1]!)) return 'B is not a float32 constant'
      if (attrInt(n, 'transA', 0)) return 'transA=1 is not supported'
      if (attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1) return 'alpha/beta other than 1 are not supported'
      if (ins[2] && !idx.floatConst(ins[2])) return 'C is not a float32 constant'
      return {index: 1, axis: attrInt(n, 'transB', 0) ? 0 : 1}
    }
    case 'Conv':
      return idx.floatConst(ins[1]!) ? {index: 1, axis: 0} : 'W is not a float32 constant'
    case 'ConvTranspose':
      return idx.floatConst(ins[1]!) ? {index: 1, axis: 1} : 'W is not a float32 constant'
    default:
      return `${n.opType} has no weight`
  }
}

/** Whether the user's op-type / glob / fallback selection leaves this node in; else why not. */
export function selectionReason(n: NodeProto, opts: QuantOptions, defaults: string[], weightName?: string): string | undefined {
  const types = opts.opTypes ?? defaults
  if (!types.includes(n.opType!)) return `op type ${n.opType} not in --op-types (${types.join(',')})`
  if (opts.keepFloat?.has(n.name!)) return 'kept in float32 by the accuracy-aware fallback'
  if (!selects(opts.filter, n.name!, weightName)) return 'not selected by --include/--exclude'
  return undefined
}

/** Quantises a float initializer into `<name>_quantized` + `_scale` + `_zero_point`, once per name. */
export function quantizedWeight(
  idx: GraphIndex,
  inits: TensorProto[],
  cache: Map<string, QuantWeight>,
  name: string,
  qtype: QType,
  opts: {
    symmetric: boolean
    reduceRange: boolean
    axis?: number
    transpose?: boolean
    adjustScales?: {key: string; fn: (scales: number[]) => number[] | undefined}
  },
): QuantWeight {
  const key = `${name}|${opts.axis}|${opts.transpose}|${qtype}|${opts.adjustScales?.key ?? ''}`
  const hit = cache.get(key)
  if (hit) return hit
  let {data, dims} = idx.floatConst(name)!
  if (opts.transpose) {
    const [r, c] = dims as [number, number]
    const t = new Float32Array(data.length)
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = data[i * c + j]!
    data = t
    dims = [c, r]
  }
  let qt = quantizeWeight(data, dims, qtype, opts)
  // e.g. scales raised so the int32 bias that follows cannot overflow: quantise again with those
  const raised = opts.adjustScales?.fn(qt.scales)
  if (raised) qt = {...quantizeWeight(data, dims, qtype, {...opts, scales: raised}), raisedScales: raised.filter((s, i) => s !== qt.scales[i]).length}
  const base = opts.transpose ? `${name}_T` : name
  const q = idx.unique(`${base}_quantized`)
  const scale = idx.unique(`${base}_scale`)
  const zp = idx.unique(`${base}_zero_point`)
  const perAxis = opts.axis !== undefined
  inits.push(
    makeTensor(q, qtype, dims, qt.data),
    makeTensor(scale, 'float32', perAxis ? [qt.scales.length] : [], Float32Array.from(qt.scales)),
    makeTensor(zp, qtype, perAxis ? [qt.zeroPoints.length] : [], qtype === 'int8' ? Int8Array.from(qt.zeroPoints) : Uint8Array.from(qt.zeroPoints)),
  )
  const res = {q, scale, zp, qt}
  cache.set(key, res)
  return res
}
