/** Static facts of an ONNX graph: op histogram, parameters, weight bytes per dtype — subgraphs included. */
import type {GraphProto, ModelProto, NodeProto, TensorProto} from '../models/onnx/proto.js'
import {toNum} from '../models/onnx/proto.js'
import {elementCount, tensorByteSize, tensorDims, tensorDType} from '../models/onnx/tensor.js'

/** Every node, depth first, including those inside If/Loop/Scan bodies; `depth` 0 = top level. */
export function* walkNodes(g: GraphProto, depth = 0): Generator<{node: NodeProto; depth: number}> {
  for (const node of g.node ?? []) {
    yield {node, depth}
    for (const a of node.attribute ?? []) {
      if (a.g) yield* walkNodes(a.g, depth + 1)
      for (const sub of a.graphs ?? []) yield* walkNodes(sub, depth + 1)
    }
  }
}

/** Initializers and Constant-node tensors (some exporters, e.g. paddle2onnx, keep all weights in Constants). */
export function* walkTensors(g: GraphProto): Generator<TensorProto> {
  for (const t of g.initializer ?? []) yield t
  for (const {node} of walkNodes(g)) {
    if (node.opType === 'Constant') for (const a of node.attribute ?? []) if (a.name === 'value' && a.t) yield a.t
  }
  // Subgraph initializers.
  for (const {node} of walkNodes(g))
    for (const a of node.attribute ?? []) {
      for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) for (const t of sub.initializer ?? []) yield t
    }
}

/** Integer/bool tensors are shapes, indices and axes, not learned weights. */
const NOT_PARAMS = new Set(['int64', 'int32', 'bool', 'string', 'uint64', 'uint32', 'int16', 'uint16'])

export interface OnnxStatic {
  ops: Record<string, number>
  nodeCount: number
  nestedNodes: number
  parameters: number
  weightBytes: Record<string, number>
  opset: Record<string, number>
  producer?: string
}

export function sortCounts(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
}

export function onnxStatic(model: ModelProto): OnnxStatic {
  const g = model.graph!
  const ops: Record<string, number> = {}
  let nodeCount = 0
  let nestedNodes = 0
  for (const {node, depth} of walkNodes(g)) {
    const key = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.${node.opType}` : (node.opType ?? '?')
    ops[key] = (ops[key] ?? 0) + 1
    nodeCount++
    if (depth > 0) nestedNodes++
  }
  let parameters = 0
  const weightBytes: Record<string, number> = {}
  for (const t of walkTensors(g)) {
    const dt = tensorDType(t)
    weightBytes[dt] = (weightBytes[dt] ?? 0) + tensorByteSize(t)
    if (!NOT_PARAMS.has(dt)) parameters += elementCount(tensorDims(t))
  }
  const opset: Record<string, number> = {}
  for (const o of model.opsetImport ?? []) opset[o.domain && o.domain !== 'ai.onnx' ? o.domain : ''] = toNum(o.version)
  const producer = [model.producerName, model.producerVersion].filter(Boolean).join(' ') || undefined
  return {ops: sortCounts(ops), nodeCount, nestedNodes, parameters, weightBytes, opset, producer}
}
