/** A small graph builder: how tfsopt writes ONNX models (fixtures, optimiser outputs) itself. */
import {AttributeType as A, newModel, newNode, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto} from './proto.js'

export type AttrValue = number | number[] | string | TensorProto | {float: number} | {floats: number[]}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue> = {},
  name?: string,
  domain?: string,
): NodeProto {
  const attribute = Object.entries(attrs).map(([n, v]) => {
    if (typeof v === 'number') return Number.isInteger(v) ? {name: n, type: A.INT, i: BigInt(v)} : {name: n, type: A.FLOAT, f: v}
    if (typeof v === 'string') return {name: n, type: A.STRING, s: Buffer.from(v)}
    if (Array.isArray(v)) return {name: n, type: A.INTS, ints: v.map(BigInt)}
    if ('float' in v) return {name: n, type: A.FLOAT, f: v.float}
    if ('floats' in v) return {name: n, type: A.FLOATS, floats: v.floats}
    return {name: n, type: A.TENSOR, t: v}
  })
  return newNode({opType, input: inputs, output: outputs, attribute, name: name ?? outputs[0], domain})
}

export interface GraphSpec {
  name: string
  nodes: NodeProto[]
  inputs: ValueInfoProto[]
  outputs: ValueInfoProto[]
  initializers: TensorProto[]
  opset?: number
  producer?: string
  docString?: string
}

export function makeModel(spec: GraphSpec): ModelProto {
  return newModel({
    irVersion: 8n,
    producerName: spec.producer ?? 'tfsopt',
    producerVersion: '0.1.0',
    docString: spec.docString,
    opsetImport: [{domain: '', version: BigInt(spec.opset ?? 13)}],
    graph: {
      name: spec.name,
      node: spec.nodes,
      input: spec.inputs,
      output: spec.outputs,
      initializer: spec.initializers,
    },
  })
}
