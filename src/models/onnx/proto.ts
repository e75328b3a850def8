/**
 * ONNX ModelProto read/write through the maintained `onnx-proto` package (protobufjs static code).
 * Decoding then encoding an unchanged model gives a model that runs identically: every field the
 * schema knows is carried, initializers keep raw_data or their typed fields exactly as stored.
 */
import {createRequire} from 'node:module'
import {readFileSync} from 'node:fs'
import type {onnx as OnnxNs} from 'onnx-proto'
import {TfsoptError} from '../../errors.js'

const require = createRequire(import.meta.url)
// onnx-proto is CommonJS; its namespace object is the runtime schema.
export const onnx: typeof OnnxNs = require('onnx-proto').onnx

export type ModelProto = OnnxNs.ModelProto
export type GraphProto = OnnxNs.IGraphProto
export type NodeProto = OnnxNs.INodeProto
export type TensorProto = OnnxNs.ITensorProto
export type ValueInfoProto = OnnxNs.IValueInfoProto
export type AttributeProto = OnnxNs.IAttributeProto

export function decodeModel(bytes: Uint8Array, where = 'model'): ModelProto {
  let model: ModelProto
  try {
    model = onnx.ModelProto.decode(bytes)
  } catch (err) {
    throw new TfsoptError(
      'E_CORRUPT',
      `${where} is not a valid ONNX model (protobuf decode failed: ${(err as Error).message}); check the file is complete and really ONNX`,
    )
  }
  if (!model.graph) throw new TfsoptError('E_CORRUPT', `${where} decodes as protobuf but has no graph; it is not an ONNX model`)
  return model
}

export function readModel(path: string): ModelProto {
  return decodeModel(readFileSync(path), path)
}

export function encodeModel(model: OnnxNs.IModelProto): Uint8Array {
  return onnx.ModelProto.encode(model as OnnxNs.ModelProto).finish()
}

/** Plain number from protobufjs' int64 representation (number or Long). */
export function toNum(v: number | {toNumber(): number} | null | undefined): number {
  if (v === null || v === undefined) return 0
  return typeof v === 'number' ? v : v.toNumber()
}

export function opsetVersion(model: OnnxNs.IModelProto, domain = ''): number | undefined {
  const entry = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === domain || (domain === '' && o.domain === 'ai.onnx'))
  return entry ? toNum(entry.version as number) : undefined
}

export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name)
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = getAttr(node, name)
  return a ? toNum(a.i as number) : dflt
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = getAttr(node, name)
  return a?.ints ? a.ints.map((x) => toNum(x as number)) : undefined
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = getAttr(node, name)
  return a && a.f !== null && a.f !== undefined ? a.f : dflt
}

export function attrString(node: NodeProto, name: string): string | undefined {
  const a = getAttr(node, name)
  return a?.s ? Buffer.from(a.s).toString('utf8') : undefined
}
