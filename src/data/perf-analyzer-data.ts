/**
 * perf_analyzer's `--input-data` JSON (Triton's format), so the same data file drives `tfsopt bench`:
 *   {"data": [{"IN0": [..flat..], "IN1": {"content": [...], "shape": [2, 3]}, "TEXT": {"b64": "..."}}, ...]}
 * Each entry is one instance without the batch dimension; entries are stacked along a new 0th dimension.
 * A flat list keeps its flat shape (the bench reshapes to the model's per-instance dims when they agree).
 * Numbers are float32 unless every value of an input is an integer (then int64, as JSON lines are);
 * strings and {"b64"} values are BYTES. `validation_data` is not read.
 */
import {TfsoptError} from '../errors.js'
import {typedArrayFrom} from '../models/onnx/tensor.js'
import type {Tensor} from '../runtime/types.js'
import type {Dataset} from './dataset.js'

const fail = (msg: string) => new TfsoptError('E_DATA', msg)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export const isPerfAnalyzerData = (obj: Record<string, unknown>) => Array.isArray(obj.data) && obj.format === undefined && obj.instances === undefined

/** One instance's value of one input → flat values and shape. */
function readValue(v: unknown, where: string): {values: (number | string)[]; shape: number[]} {
  if (isObject(v) && 'content' in v) {
    const inner = readValue(v.content, where)
    const shape = v.shape
    if (shape === undefined) return inner
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw fail(`${where}: "shape" must be a list of sizes`)
    const n = shape.reduce((a: number, b: number) => a * b, 1)
    if (n !== inner.values.length) throw fail(`${where}: "content" holds ${inner.values.length} values but "shape" [${shape}] needs ${n}`)
    return {values: inner.values, shape}
  }
  if (isObject(v) && typeof v.b64 === 'string') return {values: [Buffer.from(v.b64, 'base64').toString('utf8')], shape: [1]}
  const values = [v].flat(Infinity as 1) as unknown[]
  const out = values.map((x) => {
    if (typeof x === 'number' || typeof x === 'string') return x
    if (isObject(x) && typeof x.b64 === 'string') return Buffer.from(x.b64, 'base64').toString('utf8')
    throw fail(`${where}: values must be numbers, strings or {"b64": ...}, got ${JSON.stringify(x)?.slice(0, 40)}`)
  })
  return {values: out, shape: [out.length]}
}

export function parsePerfAnalyzerData(obj: Record<string, unknown>, path: string): Dataset {
  const entries = obj.data as unknown[]
  if (!entries.length) throw fail(`${path}: "data" is empty; give at least one {"INPUT": [...]} entry`)
  if (!entries.every(isObject)) throw fail(`${path}: every "data" entry must be an object of input name → values`)
  const names = Object.keys(entries[0] as object)
  const inputs: Record<string, Tensor> = {}
  for (const name of names) {
    const rows = entries.map((e, i) => {
      const v = (e as Record<string, unknown>)[name]
      if (v === undefined) throw fail(`${path}: data entry ${i} lacks input ${name}`)
      return readValue(v, `${path}: data entry ${i}, input ${name}`)
    })
    const inner = rows[0]!.shape
    rows.forEach((r, i) => {
      if (r.shape.join() !== inner.join()) throw fail(`${path}: data entry ${i}, input ${name} has shape [${r.shape}], the first has [${inner}]`)
    })
    const flat = rows.flatMap((r) => r.values)
    const dims = [rows.length, ...inner]
    if (flat.some((x) => typeof x === 'string')) {
      if (!flat.every((x) => typeof x === 'string')) throw fail(`${path}: input ${name} mixes strings and numbers`)
      inputs[name] = {dtype: 'string', dims, data: flat as string[]}
    } else {
      const dtype = (flat as number[]).every(Number.isInteger) ? 'int64' : 'float32'
      inputs[name] = {dtype, dims, data: typedArrayFrom(dtype, flat as number[])}
    }
  }
  return {source: path, format: 'perf-analyzer', count: entries.length, inputs}
}
