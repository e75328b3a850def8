/**
 * TensorFlow.js model.json + weight shards: read, dequantise, write. Handles graph and layers models
 * and weights already quantised by tfjs-converter (`quantization` entries in the weights manifest).
 */
import {dirname, join, resolve, sep} from 'node:path'
import {runInNewContext} from 'node:vm'
import {TfsoptError} from '../../errors.js'
import {modelFileExists as existsSync, readModelBytes} from '../memory-files.js'
import {float16BitsToFloat32} from '../onnx/tensor.js'
import type {DType} from '../dtypes.js'

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16'
  scale?: number
  min?: number
  /** Original dtype of the weight before quantisation. */
  original_dtype?: string
}

export interface WeightEntry {
  name: string
  shape: number[]
  dtype: string
  quantization?: WeightQuantization
}

export interface WeightsGroup {
  paths: string[]
  weights: WeightEntry[]
}

export interface ModelJson {
  format?: string
  generatedBy?: string
  convertedBy?: string | null
  modelTopology: unknown
  weightsManifest: WeightsGroup[]
  signature?: unknown
  userDefinedMetadata?: unknown
  [k: string]: unknown
}

export interface DecodedWeight {
  entry: WeightEntry
  /** Dequantised values in the weight's original dtype (float32 for quantised floats). */
  values: Float32Array | Int32Array | Uint8Array
  /** Bytes the weight takes in the shards as stored (quantised size when quantised). */
  storedBytes: number
}

export const storedElementBytes = (e: WeightEntry): number => {
  const dt = e.quantization?.dtype ?? e.dtype
  return ({float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, int8: 1, int16: 2} as Record<string, number>)[dt] ?? 4
}

export const elementsOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1)

export function readModelJson(path: string): ModelJson {
  let json: ModelJson
  try {
    json = JSON.parse(readModelBytes(path).toString('utf8')) as ModelJson
  } catch (err) {
    throw new TfsoptError('E_CORRUPT', `${path} is not valid JSON (${(err as Error).message}); a TF.js model.json was expected`)
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new TfsoptError('E_FORMAT', `${path} is JSON but not a TF.js model.json (it needs modelTopology and weightsManifest)`)
  }
  return json
}

export function isLayersModel(json: ModelJson): boolean {
  const topo = json.modelTopology as Record<string, unknown>
  return json.format === 'layers-model' || (typeof topo === 'object' && topo !== null && ('class_name' in topo || 'model_config' in topo))
}

/**
 * Shard bytes, concatenated in manifest order. A shard may be a plain binary file or, as nsfwjs ships
 * them, a `.min.js` module that exports the bytes as base64.
 */
export function readShards(modelJsonPath: string, json: ModelJson): Uint8Array {
  const dir = dirname(resolve(modelJsonPath))
  const parts: Uint8Array[] = []
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = resolve(dir, p)
      if (!file.startsWith(dir + sep)) throw new TfsoptError('E_FORMAT', `weight shard path ${p} escapes the model directory`)
      parts.push(readShardFile(file))
    }
  }
  return Buffer.concat(parts)
}

export function readShardFile(file: string): Uint8Array {
  if (existsSync(file)) return readModelBytes(file)
  const js = `${file}.min.js`
  const alt = file.replace(/(\.bin)?$/, '.min.js')
  for (const cand of [js, alt]) if (existsSync(cand)) return decodeJsWrappedBytes(readModelBytes(cand).toString('utf8'), cand)
  throw new TfsoptError('E_NOT_FOUND', `weight shard ${file} is missing; copy every shard listed in model.json next to it`)
}

/** The longest base64 string literal in a JS module (how nsfwjs wraps its shards). */
export function decodeJsWrappedBytes(src: string, where: string): Uint8Array {
  // A linear scan, not a regex: V8's regex engine overflows its stack on multi-megabyte literals
  // (nsfwjs' mobilenet_v2_mid shards).
  let best = ''
  for (let i = 0; i < src.length; i++) {
    const q = src[i]
    if (q !== '"' && q !== "'" && q !== '`') continue
    let j = i + 1
    while (j < src.length && isBase64Char(src.charCodeAt(j))) j++
    if (j < src.length && src[j] === q && j - i - 1 >= 64 && j - i - 1 > best.length) best = src.slice(i + 1, j)
    i = j - 1
  }
  if (!best) throw new TfsoptError('E_FORMAT', `${where} holds no base64 payload; expected a JS-wrapped TF.js shard`)
  return Buffer.from(best.replace(/\s+/g, ''), 'base64')
}

/**
 * A model.json wrapped as a JS module (nsfwjs' model.min.js is a browserify bundle whose module body is
 * `exports={modelTopology:{...},weightsManifest:[...]}` with unquoted keys). The object literal is cut
 * out by brace matching and evaluated alone in an empty VM context with a time limit: no require, no
 * globals, so the bundle's code itself never runs.
 */
export function decodeJsWrappedJson(src: string, where: string): ModelJson {
  const m = /exports\s*=\s*\{/.exec(src) ?? /\{\s*"?modelTopology"?\s*:/.exec(src)
  if (m) {
    const start = src.indexOf('{', m.index)
    const end = matchBrace(src, start)
    if (end > start) {
      try {
        const obj = runInNewContext(`(${src.slice(start, end + 1)})`, Object.create(null), {timeout: 2000}) as ModelJson
        if (obj?.modelTopology && Array.isArray(obj.weightsManifest)) return JSON.parse(JSON.stringify(obj)) as ModelJson
      } catch {
        /* not a plain literal */
      }
    }
  }
  throw new TfsoptError('E_FORMAT', `${where} holds no TF.js model.json object (expected a JS module exporting {modelTopology, weightsManifest})`)
}

/** A model.json, or a JS module wrapping one (how some npm packages ship TF.js models). */
export function readTfjsModelJson(path: string): ModelJson {
  return path.endsWith('.js') ? decodeJsWrappedJson(readModelBytes(path).toString('utf8'), path) : readModelJson(path)
}

/** A-Z a-z 0-9 + / = and line breaks. */
function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61 || c === 10 || c === 13
}

/** Index of the brace closing the one at `start`, skipping string literals; -1 if unbalanced. */
function matchBrace(src: string, start: number): number {
  let depth = 0
  let quote = ''
  for (let i = start; i < src.length; i++) {
    const c = src[i]!
    if (quote) {
      if (c === '\\') i++
      else if (c === quote) quote = ''
    } else if (c === '"' || c === "'" || c === '`') quote = c
    else if (c === '{' || c === '[') depth++
    else if ((c === '}' || c === ']') && --depth === 0) return i
  }
  return -1
}

/** Dequantise one weight exactly as tfjs-core's io.decodeWeights does. */
export function decodeWeight(entry: WeightEntry, bytes: Uint8Array): Float32Array | Int32Array | Uint8Array {
  const n = elementsOf(entry.shape)
  const buf = Uint8Array.prototype.slice.call(bytes).buffer // a real copy even when bytes is a Node Buffer
  const q = entry.quantization
  if (q) {
    if (q.dtype === 'float16') return float16BitsToFloat32(new Uint16Array(buf, 0, n))
    const raw = q.dtype === 'uint8' ? new Uint8Array(buf, 0, n) : new Uint16Array(buf, 0, n)
    const scale = q.scale ?? 1
    const min = q.min ?? 0
    if (entry.dtype === 'int32') return Int32Array.from(raw, (v) => Math.round(v * scale + min))
    return Float32Array.from(raw, (v) => v * scale + min)
  }
  switch (entry.dtype) {
    case 'float32':
      return new Float32Array(buf, 0, n)
    case 'int32':
      return new Int32Array(buf, 0, n)
    case 'bool':
      return new Uint8Array(buf, 0, n)
    default:
      throw new TfsoptError('E_UNSUPPORTED', `weight ${entry.name} has dtype ${entry.dtype}, which tfsopt cannot read`)
  }
}

export function decodeAllWeights(json: ModelJson, data: Uint8Array): DecodedWeight[] {
  const out: DecodedWeight[] = []
  let offset = 0
  for (const group of json.weightsManifest) {
    for (const entry of group.weights) {
      const size = elementsOf(entry.shape) * storedElementBytes(entry)
      if (offset + size > data.length)
        throw new TfsoptError(
          'E_CORRUPT',
          `weight ${entry.name} runs past the end of the shards (${data.length} bytes); the shards are truncated or do not match model.json`,
        )
      out.push({entry, values: decodeWeight(entry, data.subarray(offset, offset + size)), storedBytes: size})
      offset += size
    }
  }
  return out
}

export function tfjsWeightDType(e: WeightEntry): DType {
  return (e.quantization?.dtype ?? e.dtype) as DType
}

export function modelJsonPathOf(path: string): string {
  return path.endsWith('.json') || path.endsWith('.js') ? path : join(path, 'model.json')
}
