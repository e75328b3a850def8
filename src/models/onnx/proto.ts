/**
 * ONNX ModelProto read/write through types generated (protobuf-es v2, `npm run gen:onnx`) from the
 * vendored current onnx.proto (proto/onnx/). Decoding then encoding a model loses nothing: every field
 * the schema knows is carried with its presence (proto2), and fields it does not know (a newer IR, a
 * vendor extension) are kept as unknown fields on their message and written back in place.
 * int64 fields (dims, attribute ints, opset versions) are bigint.
 */
import {create, fromBinary, toBinary, type MessageInitShape} from '@bufbuild/protobuf'
import {
  AttributeProto_AttributeType,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataLocation,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TypeProto_Tensor,
  type ValueInfoProto,
} from './generated/onnx/onnx_pb.js'
import {TfsoptError} from '../../errors.js'
import {readModelBytes} from '../memory-files.js'

export type {AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, TypeProto_Tensor, ValueInfoProto}
export {AttributeProto_AttributeType as AttributeType, TensorProto_DataLocation as DataLocation}

export type ModelInit = MessageInitShape<typeof ModelProtoSchema>
export type NodeInit = MessageInitShape<typeof NodeProtoSchema>
export type TensorInit = MessageInitShape<typeof TensorProtoSchema>
export type ValueInfoInit = MessageInitShape<typeof ValueInfoProtoSchema>

/** Message constructors: nested plain objects in `init` become messages too. */
export const newModel = (init: ModelInit): ModelProto => create(ModelProtoSchema, init)
export const newNode = (init: NodeInit): NodeProto => create(NodeProtoSchema, init)
export const newTensor = (init: TensorInit): TensorProto => create(TensorProtoSchema, init)
export const newValueInfo = (init: ValueInfoInit): ValueInfoProto => create(ValueInfoProtoSchema, init)

export function decodeModel(bytes: Uint8Array, where = 'model'): ModelProto {
  let model: ModelProto
  try {
    model = fromBinary(ModelProtoSchema, bytes)
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
  return decodeModel(readModelBytes(path), path)
}

export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model)
}

/** A serialized TensorProto (the ONNX test-data `input_0.pb` format). */
export function decodeTensor(bytes: Uint8Array): TensorProto {
  return fromBinary(TensorProtoSchema, bytes)
}

export function encodeTensor(t: TensorProto): Uint8Array {
  return toBinary(TensorProtoSchema, t)
}

/** Plain number from an int64 field (bigint); shapes and attribute values stay far below 2^53. */
export function toNum(v: bigint | number | undefined): number {
  return v === undefined ? 0 : Number(v)
}

/** The tensor type of a value (input, output, value_info); undefined for sequences, maps and untyped values. */
export function tensorTypeOf(v: ValueInfoProto | undefined): TypeProto_Tensor | undefined {
  const t = v?.type?.value
  return t?.case === 'tensorType' ? t.value : undefined
}

export function opsetVersion(model: ModelProto, domain = ''): number | undefined {
  const entry = model.opsetImport.find((o) => o.domain === domain || (domain === '' && o.domain === 'ai.onnx'))
  return entry ? toNum(entry.version) : undefined
}

export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name)
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = getAttr(node, name)
  return a ? toNum(a.i) : dflt
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = getAttr(node, name)
  return a ? a.ints.map(toNum) : undefined
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = getAttr(node, name)
  return a ? a.f : dflt
}

export function attrString(node: NodeProto, name: string): string | undefined {
  const a = getAttr(node, name)
  return a ? Buffer.from(a.s).toString('utf8') : undefined
}
