/**
 * TF Serving's predict request and response formats. Row format ("instances") stacks one value (or
 * one object of named values) per instance along a new 0th dimension; columnar format ("inputs") gives
 * whole tensors. Answers mirror the request: "predictions" (a list per instance, objects when the model
 * has several outputs) or "outputs" (a tensor, or an object of tensors).
 */
import {badRequest} from '../errors.js'
import {formatShape, type TensorInfo} from '../models/dtypes.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import {decodeTensor, encodeRow, encodeTensor} from './tensor-json.js'

export type PredictFormat = 'row' | 'columnar'
export const DEFAULT_SIGNATURE = 'serving_default'

export interface DecodedPredict {
  format: PredictFormat
  signature: string
  feeds: Feeds
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !('b64' in v && Object.keys(v).length === 1)

const names = (infos: TensorInfo[]) => infos.map((i) => `'${i.name}'`).join(', ')

export function checkSignature(sig: unknown): string {
  if (sig === undefined || sig === '' || sig === DEFAULT_SIGNATURE) return DEFAULT_SIGNATURE
  if (typeof sig !== 'string') throw badRequest(`signature_name must be a string; expected "${DEFAULT_SIGNATURE}"`)
  throw badRequest(`serving signature name "${sig}" not found; this model has one signature: "${DEFAULT_SIGNATURE}"`)
}

export function decodePredict(body: unknown, inputs: TensorInfo[]): DecodedPredict {
  if (!isPlainObject(body)) throw badRequest('the predict body must be a JSON object with "instances" (row format) or "inputs" (columnar format)')
  const signature = checkSignature(body.signature_name)
  const hasI = 'instances' in body
  const hasC = 'inputs' in body
  if (hasI === hasC)
    throw badRequest(`the body must have exactly one of "instances" (row format) or "inputs" (columnar format), ${hasI ? 'not both' : 'found neither'}`)
  const feeds: Feeds = {}
  const format: PredictFormat = hasI ? 'row' : 'columnar'
  if (format === 'row') {
    const inst = body.instances
    if (!Array.isArray(inst) || inst.length === 0)
      throw badRequest('"instances" must be a non-empty list with one value (or one object of named inputs) per instance')
    const named = isPlainObject(inst[0])
    if (!named) {
      if (inputs.length !== 1)
        throw badRequest(`this model has ${inputs.length} inputs (${names(inputs)}); each instance must be an object keyed by input name`)
      const info = inputs[0]!
      feeds[info.name] = decodeTensor(inst, info.dtype, `input '${info.name}'`)
    } else {
      for (const [idx, row] of inst.entries()) {
        if (!isPlainObject(row))
          throw badRequest(`instance ${idx} is not an object; with named inputs every instance must be an object keyed by input name (${names(inputs)})`)
        for (const k of Object.keys(row))
          if (!inputs.some((i) => i.name === k)) throw badRequest(`instance ${idx} has unknown input '${k}'; this model's inputs are ${names(inputs)}`)
      }
      for (const info of inputs) {
        const vals = inst.map((row, idx) => {
          const v = (row as Record<string, unknown>)[info.name]
          if (v === undefined) throw badRequest(`instance ${idx} lacks input '${info.name}'; every instance needs ${names(inputs)}`)
          return v
        })
        feeds[info.name] = decodeTensor(vals, info.dtype, `input '${info.name}'`)
      }
    }
  } else {
    const v = body.inputs
    if (isPlainObject(v) && (inputs.length > 1 || Object.keys(v).some((k) => k === inputs[0]?.name) || !Array.isArray(v))) {
      for (const k of Object.keys(v)) if (!inputs.some((i) => i.name === k)) throw badRequest(`unknown input '${k}'; this model's inputs are ${names(inputs)}`)
      for (const info of inputs) {
        if (!(info.name in v)) throw badRequest(`missing input '${info.name}'; this model needs ${names(inputs)}`)
        feeds[info.name] = decodeTensor(v[info.name], info.dtype, `input '${info.name}'`)
      }
    } else {
      if (inputs.length !== 1) throw badRequest(`this model has ${inputs.length} inputs (${names(inputs)}); "inputs" must be an object keyed by input name`)
      const info = inputs[0]!
      if (v === null || v === undefined) throw badRequest(`"inputs" is empty; expected a tensor for '${info.name}'`)
      feeds[info.name] = decodeTensor(v, info.dtype, `input '${info.name}'`)
    }
  }
  checkShapes(feeds, inputs)
  return {format, signature, feeds}
}

/** Rank and every fixed dimension must match the model; -1/symbolic dimensions take any size. */
export function checkShapes(feeds: Feeds, inputs: TensorInfo[]): void {
  for (const info of inputs) {
    const t = feeds[info.name]
    if (!t) throw badRequest(`missing input '${info.name}'; this model needs ${names(inputs)}`)
    if (t.dtype !== info.dtype && info.dtype !== 'unknown') throw badRequest(`input '${info.name}' must be ${info.dtype}, got ${t.dtype}`)
    if (!info.shape) continue
    const ok = t.dims.length === info.shape.length && info.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === t.dims[i])
    if (!ok) throw badRequest(`input '${info.name}' has shape [${t.dims}] but the model expects ${formatShape(info.shape)} (symbolic dimensions take any size)`)
  }
}

/** Output names ending in _bytes carry binary strings: TF Serving answers them as {"b64": ...}. */
export const asB64 = (name: string, t: Tensor) => t.dtype === 'string' && name.endsWith('_bytes')

export function outputKeys(outputs: Record<string, Tensor>, order: string[]): string[] {
  const keys: string[] = []
  for (const k of order) if (k in outputs) keys.push(k)
  if (keys.length !== order.length || Object.keys(outputs).length !== keys.length) for (const k in outputs) if (!keys.includes(k)) keys.push(k)
  return keys
}

export function encodePredict(format: PredictFormat, outputs: Record<string, Tensor>, order: string[]): string {
  const keys = outputKeys(outputs, order)
  if (format === 'columnar') {
    if (keys.length === 1) return `{"outputs":${encodeTensor(outputs[keys[0]!]!, asB64(keys[0]!, outputs[keys[0]!]!))}}`
    return `{"outputs":{${keys.map((k) => `${JSON.stringify(k)}:${encodeTensor(outputs[k]!, asB64(k, outputs[k]!))}`).join(',')}}}`
  }
  const rows = outputs[keys[0]!]!.dims[0]
  for (const k of keys) {
    const t = outputs[k]!
    if (t.dims.length === 0 || t.dims[0] !== rows) {
      throw badRequest(
        `output '${k}' has shape [${t.dims}], which has no 0th dimension matching the other outputs (${rows}); the row format ("instances") needs every output batched — use the columnar format ("inputs")`,
      )
    }
  }
  let s = '{"predictions":['
  if (keys.length === 1) {
    const t = outputs[keys[0]!]!
    const b64 = asB64(keys[0]!, t)
    for (let r = 0; r < rows!; r++) s += (r ? ',' : '') + encodeRow(t, r, b64)
    return `${s}]}`
  }
  const quoted = keys.map((k) => `${JSON.stringify(k)}:`)
  for (let r = 0; r < rows!; r++) {
    s += r ? ',{' : '{'
    for (let i = 0; i < keys.length; i++) {
      const t = outputs[keys[i]!]!
      s += (i ? ',' : '') + quoted[i] + encodeRow(t, r, asB64(keys[i]!, t))
    }
    s += '}'
  }
  return `${s}]}`
}
