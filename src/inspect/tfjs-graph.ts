/**
 * FLOPs of a TF.js graph model, best effort: the model is loaded in TensorFlow.js and executed once at
 * batch 1 asking for every conv/matmul node's operands by name, so their shapes come from the run.
 */
import type * as TfNs from '@tensorflow/tfjs'
import {loadTfjs} from '../runtime/tfjs-backend.js'
import {tfjsArtifacts} from '../runtime/tfjs-session.js'
import type {DType, TensorInfo} from '../models/dtypes.js'
import {addCount, convMacs, matmulMacs} from './macs.js'
import {resolveShapes} from './input-shape.js'
import type {ComputeEstimate} from './types.js'

/** A node of a TF.js graph model's modelTopology.node list (the attrs inspect reads). */
export interface GraphNode {
  name: string
  op: string
  input?: string[]
  attr?: Record<string, {b?: boolean; s?: string; type?: string; shape?: {dim?: {size?: string}[]; unknownRank?: boolean}}>
}

const CONV = new Set(['Conv2D', '_FusedConv2D', 'FusedConv2D'])
const DEPTHWISE = new Set(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative', 'DepthwiseConv2d'])
const MATMUL = new Set(['MatMul', '_FusedMatMul', 'BatchMatMul', 'BatchMatMulV2'])

const tensorName = (ref: string) => ref.replace(/^\^/, '').replace(/:0$/, '')

export async function tfjsGraphCompute(path: string, nodes: GraphNode[], inputs: TensorInfo[], given: Record<string, number[]> = {}): Promise<ComputeEstimate> {
  const {shapes: feedShapes, batch, assumed} = resolveShapes(inputs, given)
  const counted = nodes.filter((n) => CONV.has(n.op) || DEPTHWISE.has(n.op) || MATMUL.has(n.op))
  const wanted = new Set<string>()
  for (const n of counted) for (const ref of [n.input?.[0], n.input?.[1], n.name]) if (ref) wanted.add(tensorName(ref))
  const tfb = await loadTfjs('auto')
  const tf = tfb.tf
  const model = await tf.loadGraphModel(tf.io.fromMemory(tfjsArtifacts(path)))
  const shapes = new Map<string, number[]>()
  try {
    const feeds: Record<string, TfNs.Tensor> = {}
    for (const i of inputs) feeds[i.name] = tf.zeros(feedShapes[i.name]!, (i.dtype === 'int32' ? 'int32' : 'float32') as DType as 'float32')
    const names = [...wanted]
    // execute() when it can (executeAsync logs a hint to stdout for models without control flow).
    let res: TfNs.Tensor | TfNs.Tensor[]
    try {
      res = model.execute(feeds, names)
    } catch {
      res = await model.executeAsync(feeds, names)
    }
    const list = Array.isArray(res) ? res : [res]
    names.forEach((n, i) => shapes.set(n, [...list[i]!.shape]))
    tf.dispose([...list, ...Object.values(feeds)])
  } finally {
    model.dispose()
  }
  const byOp: Record<string, {count: number; macs: number}> = {}
  const perNode: ComputeEstimate['nodes'] = []
  let macs = 0
  for (const n of counted) {
    const x = shapes.get(tensorName(n.input![0]!))
    const w = shapes.get(tensorName(n.input![1]!))
    const y = shapes.get(n.name)
    if (!x || !w || !y) continue
    let m: number
    if (CONV.has(n.op)) m = convMacs(y, w[2]!, w.slice(0, 2))
    else if (DEPTHWISE.has(n.op)) m = convMacs(y, 1, w.slice(0, 2))
    else m = matmulMacs(y, n.attr?.transpose_a?.b || n.attr?.adj_x?.b ? x[x.length - 2]! : x[x.length - 1]!)
    addCount(byOp, n.op, m / batch)
    perNode.push({name: n.name, op: n.op, macs: m / batch})
    macs += m / batch
  }
  const present = new Set(nodes.map((n) => n.op))
  return {
    macs,
    flops: 2 * macs,
    counted: byOp,
    nodes: perNode,
    notCounted: [...present].filter((op) => !byOp[op]).sort(),
    inputShapes: feedShapes,
    method: `TensorFlow.js (${tfb.backend}) run at the shapes shown, operand shapes read from the run`,
    notes: ['graph model: best effort (NHWC assumed; Conv2D, depthwise conv and MatMul nodes counted)', ...assumed],
  }
}
