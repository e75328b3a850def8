/**
 * The KServe v2 inference request and response bodies, JSON or with the binary tensor data extension:
 * `Inference-Header-Content-Length` gives the length of the JSON header, the tensors' bytes follow in
 * the order the header lists them (inputs with `parameters.binary_data_size`); outputs asked with
 * `parameters.binary_data` (or request-level `binary_data_output`) come back the same way.
 */
import {badRequest} from '../../errors.js'
import type {TensorInfo} from '../../models/dtypes.js'
import type {Feeds, Tensor} from '../../runtime/types.js'
import {parseJsonBody} from '../json-body.js'
import {V2_DATATYPE, checkV2Shape, dtypeOfV2, tensorFromV2Bytes, tensorFromV2Json, tensorToV2Bytes, tensorToV2Json} from './v2-tensor.js'

export const HEADER_LENGTH = 'inference-header-content-length'

export interface InferRequest {
  id?: string
  feeds: Feeds
  /** Outputs to return, in the order to return them; undefined means all, in the model's order. */
  outputs?: string[]
  /** Names of the outputs to return as binary data. */
  binaryOutputs: Set<string>
  /** Every output binary unless an output says otherwise (request `parameters.binary_data_output`). */
  binaryByDefault: boolean
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const names = (infos: TensorInfo[]) => infos.map((i) => `'${i.name}'`).join(', ')

function params(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined) return {}
  if (!isObject(v)) throw badRequest(`${where}: "parameters" must be an object`)
  return v
}

/** Splits a body into its JSON header and the binary data after it. */
function splitBody(body: Buffer, headerLength: string | undefined): {json: string; binary: Buffer} {
  if (headerLength === undefined) return {json: body.toString('utf8'), binary: body.subarray(body.length)}
  const n = Number(headerLength)
  if (!/^\d+$/.test(headerLength.trim()) || n > body.length)
    throw badRequest(
      `Inference-Header-Content-Length is ${JSON.stringify(headerLength)} but the body holds ${body.length} bytes; give the JSON header's byte length`,
    )
  return {json: body.subarray(0, n).toString('utf8'), binary: body.subarray(n)}
}

export function decodeInferRequest(body: Buffer, headerLength: string | undefined, inputs: TensorInfo[], outputs: TensorInfo[]): InferRequest {
  const {json, binary} = splitBody(body, headerLength)
  const req = parseJsonBody(json)
  if (!isObject(req)) throw badRequest('the infer body must be a JSON object with "inputs": [{name, shape, datatype, data}]')
  if (req.id !== undefined && typeof req.id !== 'string') throw badRequest('"id" must be a string')
  const reqParams = params(req.parameters, 'the request')
  if (!Array.isArray(req.inputs) || req.inputs.length === 0) throw badRequest('"inputs" must be a non-empty list of {name, shape, datatype, data}')
  const feeds: Feeds = {}
  let off = 0
  for (const [i, inp] of req.inputs.entries()) {
    if (!isObject(inp) || typeof inp.name !== 'string') throw badRequest(`inputs[${i}] must be an object with a string "name"`)
    const where = `input '${inp.name}'`
    const info = inputs.find((x) => x.name === inp.name)
    if (!info) throw badRequest(`unknown input '${inp.name}'; this model's inputs are ${names(inputs)}`)
    if (Object.hasOwn(feeds, info.name)) throw badRequest(`input '${info.name}' is given twice`)
    const dtype = dtypeOfV2(inp.datatype, where)
    if (info.dtype !== 'unknown' && dtype !== info.dtype) throw badRequest(`${where} must be ${V2_DATATYPE[info.dtype] ?? info.dtype}, got ${inp.datatype}`)
    const shape = checkV2Shape(inp.shape, where)
    const size = params(inp.parameters, where).binary_data_size
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw badRequest(`${where}: binary_data_size must be a byte count ≥ 0`)
      if (inp.data !== undefined) throw badRequest(`${where}: has both "data" and binary_data_size; give one`)
      const end = off + (size as number)
      if (end > binary.length) throw badRequest(`${where}: binary_data_size ${size} runs past the end of the binary data (${binary.length - off} bytes left)`)
      feeds[info.name] = tensorFromV2Bytes(binary.subarray(off, end), dtype, shape, where)
      off = end
    } else feeds[info.name] = tensorFromV2Json(inp.data, dtype, shape, where)
  }
  if (off !== binary.length)
    throw badRequest(`the body has ${binary.length} bytes of binary data after the JSON header but the inputs' binary_data_size add up to ${off}`)
  const binaryByDefault = reqParams.binary_data_output === true
  const binaryOutputs = new Set<string>()
  let wanted: string[] | undefined
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw badRequest('"outputs" must be a list of {name, parameters?}')
    wanted = []
    for (const [i, o] of req.outputs.entries()) {
      if (!isObject(o) || typeof o.name !== 'string') throw badRequest(`outputs[${i}] must be an object with a string "name"`)
      if (!outputs.some((x) => x.name === o.name)) throw badRequest(`unknown output '${o.name}'; this model's outputs are ${names(outputs)}`)
      const b = params(o.parameters, `output '${o.name}'`).binary_data
      if (b === true || (b === undefined && binaryByDefault)) binaryOutputs.add(o.name)
      wanted.push(o.name)
    }
  }
  if (!wanted && binaryByDefault) for (const o of outputs) binaryOutputs.add(o.name)
  return {id: req.id as string | undefined, feeds, outputs: wanted, binaryOutputs, binaryByDefault}
}

export interface InferAnswer {
  modelName: string
  modelVersion: string
  id?: string
  /** Outputs in the order to list them. */
  outputs: [string, Tensor][]
  binaryOutputs: Set<string>
}

/** The response body, and the JSON header's length when binary data follows it. */
export function encodeInferResponse(a: InferAnswer): {body: Buffer; headerLength?: number} {
  const parts: Buffer[] = []
  let s = `{"model_name":${JSON.stringify(a.modelName)},"model_version":${JSON.stringify(a.modelVersion)}`
  if (a.id !== undefined) s += `,"id":${JSON.stringify(a.id)}`
  s += ',"outputs":['
  a.outputs.forEach(([name, t], i) => {
    const datatype = V2_DATATYPE[t.dtype]
    if (!datatype) throw badRequest(`output '${name}' is ${t.dtype}, which the v2 protocol cannot carry; use the TF Serving REST API`)
    s += `${i ? ',' : ''}{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${t.dims}]`
    if (a.binaryOutputs.has(name)) {
      const bytes = tensorToV2Bytes(t)
      parts.push(bytes)
      s += `,"parameters":{"binary_data_size":${bytes.length}}}`
    } else s += `,"data":${tensorToV2Json(t)}}`
  })
  s += ']}'
  const header = Buffer.from(s, 'utf8')
  if (!parts.length) return {body: header}
  return {body: Buffer.concat([header, ...parts]), headerLength: header.length}
}
