/**
 * `--strip-names`: the ONNX counterpart of TensorFlow's strip_debug_info, for deployments where every
 * byte of a small model counts. A quantised graph adds a fixed few kilobytes of structure: ORT-style
 * names such as `conv1.pre_QuantizeLinear_Output` appear once per writer and once per reader. On a
 * 28k-parameter CNN that is ~3% of the float file, enough to hold its int8 copy above a quarter of
 * the original size however small the weights get.
 *
 * What survives: graph input and output names (the serving signature), the names of the nodes the
 * caller says to keep (the original graph's, which reports and fallback lists refer to), every name a
 * subgraph reads from the outer scope, and metadata. What goes: other tensor names (replaced by short
 * base-36 ids), helper node names and doc strings. Pure: returns a changed copy.
 */
import type {AttributeProto, GraphProto, ModelProto} from '../../models/onnx/proto.js'
import {cloneModel} from './graph.js'

export interface StripResult {
  model: ModelProto
  renamedTensors: number
  droppedNodeNames: number
}

/** Every name mentioned inside a node's subgraphs (If/Loop/Scan bodies may read outer tensors by name). */
function subgraphNames(attrs: AttributeProto[] | null | undefined, into: Set<string>): void {
  for (const a of attrs ?? []) {
    for (const sg of [a.g, ...(a.graphs ?? [])]) {
      if (!sg) continue
      for (const n of sg.node ?? []) {
        for (const x of [...(n.input ?? []), ...(n.output ?? [])]) into.add(x)
        subgraphNames(n.attribute, into)
      }
    }
  }
}

export function stripNames(input: ModelProto, keepNodeNames: ReadonlySet<string>): StripResult {
  const model = cloneModel(input)
  const g = model.graph as GraphProto
  const reserved = new Set<string>(['', ...[...(g.input ?? []), ...(g.output ?? [])].map((v) => v.name!)])
  for (const n of g.node ?? []) subgraphNames(n.attribute, reserved)
  const ids = new Map<string, string>()
  let next = 0
  const rename = (name: string): string => {
    if (reserved.has(name)) return name
    let id = ids.get(name)
    if (id === undefined) {
      do id = (next++).toString(36)
      while (reserved.has(id))
      ids.set(name, id)
    }
    return id
  }
  let dropped = 0
  for (const n of g.node ?? []) {
    n.input = (n.input ?? []).map(rename)
    n.output = (n.output ?? []).map(rename)
    if (n.name && !keepNodeNames.has(n.name)) {
      n.name = ''
      dropped++
    }
    n.docString = ''
  }
  for (const t of g.initializer ?? []) t.name = rename(t.name!)
  for (const s of g.sparseInitializer ?? []) if (s.values) s.values.name = rename(s.values.name!)
  for (const v of g.valueInfo ?? []) v.name = rename(v.name!)
  for (const a of g.quantizationAnnotation ?? []) a.tensorName = rename(a.tensorName!)
  g.docString = ''
  model.docString = ''
  return {model, renamedTensors: ids.size, droppedNodeNames: dropped}
}
