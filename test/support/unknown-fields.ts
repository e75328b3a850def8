// Protobuf fields the ONNX schema does not know, planted in a model at every level (model, graph,
// node, initializer), and the checks that they came through a rewrite where they were.
import assert from 'node:assert/strict'
import {BinaryWriter, WireType} from '@bufbuild/protobuf/wire'
import type {ModelProto} from '../../src/models/onnx/proto.js'

/** Field numbers and payloads no ONNX message uses; one per level so a field cannot pass for another's. */
export const UNKNOWN = {
  model: {no: 9001, text: 'tfsopt-test: unknown at ModelProto'},
  graph: {no: 9002, text: 'tfsopt-test: unknown at GraphProto'},
  node: {no: 9003, text: 'tfsopt-test: unknown at NodeProto'},
  tensor: {no: 9004, text: 'tfsopt-test: unknown at TensorProto'},
} as const
export type Level = keyof typeof UNKNOWN

/** The whole field as it sits on the wire: tag (field number, length-delimited) + length + UTF-8 payload. */
export const wireField = (level: Level): Uint8Array => new BinaryWriter().tag(UNKNOWN[level].no, WireType.LengthDelimited).string(UNKNOWN[level].text).finish()

const unknownEntry = (level: Level) => ({
  no: UNKNOWN[level].no,
  wireType: WireType.LengthDelimited,
  data: new BinaryWriter().string(UNKNOWN[level].text).finish(),
})

/** Plants one unknown field on the model, its graph, every node and every initializer (in place). */
export function plantUnknownFields(model: ModelProto): ModelProto {
  model.$unknown = [unknownEntry('model')]
  const g = model.graph!
  g.$unknown = [unknownEntry('graph')]
  for (const n of g.node) n.$unknown = [unknownEntry('node')]
  for (const t of g.initializer) t.$unknown = [unknownEntry('tensor')]
  return model
}

/** Whether `msg` carries the level's field, number and payload bytes unchanged. */
export function carries(msg: {$unknown?: {no: number; data: Uint8Array}[]}, level: Level): boolean {
  const want = unknownEntry(level).data
  return (msg.$unknown ?? []).some((u) => u.no === UNKNOWN[level].no && Buffer.from(u.data).equals(want))
}

/** Occurrences of the level's complete wire field in serialized bytes. */
export function countWireField(bytes: Uint8Array, level: Level): number {
  const needle = Buffer.from(wireField(level))
  const hay = Buffer.from(bytes)
  let n = 0
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) n++
  return n
}

/**
 * The model- and graph-level fields are kept, every node of `original` that is still in `out` (same
 * name and op type) keeps its own, and so does every initializer left as it was (same name, type and
 * bytes). Returns how many nodes and initializers were checked.
 */
export function assertUnknownFieldsKept(original: ModelProto, out: ModelProto, what: string): {nodes: number; tensors: number} {
  assert.ok(carries(out, 'model'), `${what}: the model-level unknown field is gone`)
  assert.ok(carries(out.graph!, 'graph'), `${what}: the graph-level unknown field is gone`)
  const before = new Map(original.graph!.node.map((n) => [n.name, n.opType]))
  let checked = 0
  for (const n of out.graph!.node) {
    if (before.get(n.name) !== n.opType) continue
    assert.ok(carries(n, 'node'), `${what}: node ${n.name} (${n.opType}) survived but lost its unknown field`)
    checked++
  }
  const inits = new Map(original.graph!.initializer.map((t) => [t.name, t]))
  let tensors = 0
  for (const t of out.graph!.initializer) {
    const o = inits.get(t.name)
    if (!o || o.dataType !== t.dataType || !Buffer.from(o.rawData).equals(Buffer.from(t.rawData))) continue
    assert.ok(carries(t, 'tensor'), `${what}: initializer ${t.name} is unchanged but lost its unknown field`)
    tensors++
  }
  return {nodes: checked, tensors}
}
