/**
 * Input data for every command that feeds a model (bench --data, quantize --calibration-data/--eval-data,
 * prune --eval-data). Three formats are accepted, detected from the path:
 *
 * 1. the tfsopt eval-set JSON (what fixtures ship; documented in fixtures/README.md):
 *    {"format":"tfsopt-evalset","version":1,"count":N,
 *     "inputs":{"<name>|*":{"dtype":"float32","shape":[N,...],"encoding":"json|base64|uint8-affine",
 *                          "scale":S,"zeroPoint":Z,"data":[...]|"<base64>"}},
 *     "labels":[...]}            ("*" = the model's only input; labels optional)
 * 2. JSON lines: one instance per line — an array (single-input model), an object of input name →
 *    value, or {"instance": <either>, "label": k}. A TF Serving body {"instances":[...]} per line works too.
 * 3. an ONNX test-data directory: test_data_set_N/input_K.pb (+ output_K.pb) TensorProto files, as ONNX
 *    model-zoo models ship them; several sets are concatenated along the batch dimension.
 * 4. perf_analyzer's --input-data JSON, {"data": [{"IN": [...] | {"content", "shape"} | {"b64"}}, ...]}
 *    (perf-analyzer-data.ts).
 */
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {TfsoptError} from '../errors.js'
import {decodeTensor, type TensorProto} from '../models/onnx/proto.js'
import {tensorToHost, typedArrayFrom, elementCount, type TypedArray} from '../models/onnx/tensor.js'
import type {DType, TensorInfo} from '../models/dtypes.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import {isPerfAnalyzerData, parsePerfAnalyzerData} from './perf-analyzer-data.js'

export interface Dataset {
  source: string
  format: 'evalset' | 'jsonl' | 'onnx-test-data' | 'perf-analyzer'
  count: number
  /** Keyed by input name, or '*' for "the model's only input". First dim is the sample index. */
  inputs: Record<string, Tensor>
  labels?: number[]
  /** Reference outputs when the data carries them (ONNX test-data output_K.pb). */
  expected?: Record<string, Tensor>
}

const fail = (msg: string) => new TfsoptError('E_DATA', msg)

export function loadDataset(path: string): Dataset {
  if (!existsSync(path)) throw fail(`data not found: ${path}`)
  if (statSync(path).isDirectory()) return loadOnnxTestData(path)
  const text = readFileSync(path, 'utf8')
  if (!text.trim()) throw fail(`${path} is empty; give an eval-set JSON, JSON lines of instances, or an ONNX test-data directory`)
  const first = text.trimStart()[0]
  if (first === '{') {
    try {
      const obj = JSON.parse(text) as Record<string, unknown>
      if (obj.format === 'tfsopt-evalset') return parseEvalSet(obj, path)
      if (Array.isArray(obj.instances)) return parseJsonLines([text], path)
      if (isPerfAnalyzerData(obj)) return parsePerfAnalyzerData(obj, path)
    } catch (err) {
      if (err instanceof TfsoptError) throw err
      /* not one JSON document: JSON lines */
    }
  }
  return parseJsonLines(
    text.split('\n').filter((l) => l.trim()),
    path,
  )
}

function decodeInput(name: string, spec: Record<string, unknown>, path: string): Tensor {
  const dtype = (spec.dtype ?? 'float32') as DType
  const shape = spec.shape as number[]
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw fail(`${path}: input ${name} needs "shape" as a list of sizes`)
  const n = elementCount(shape)
  let data: TypedArray
  const enc = spec.encoding ?? 'json'
  if (enc === 'json') data = typedArrayFrom(dtype, (spec.data as number[]).flat(Infinity as 1) as number[])
  else if (enc === 'base64') {
    const bytes = Buffer.from(String(spec.data), 'base64')
    data = typedArrayFrom(dtype, [])
    const Ctor = data.constructor as unknown as new (b: ArrayBuffer) => TypedArray
    data = new Ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  } else if (enc === 'uint8-affine') {
    const q = Buffer.from(String(spec.data), 'base64')
    const scale = Number(spec.scale ?? 1)
    const zp = Number(spec.zeroPoint ?? 0)
    const f = new Float32Array(q.length)
    for (let i = 0; i < q.length; i++) f[i] = (q[i]! - zp) * scale
    data = dtype === 'float32' ? f : typedArrayFrom(dtype, Array.from(f))
  } else throw fail(`${path}: input ${name} has unknown encoding ${String(enc)} (json, base64 or uint8-affine)`)
  if (data.length !== n) throw fail(`${path}: input ${name} has ${data.length} values but shape [${shape}] needs ${n}`)
  return {dtype, dims: shape, data}
}

function parseEvalSet(obj: Record<string, unknown>, path: string): Dataset {
  const inputs: Record<string, Tensor> = {}
  const specs = obj.inputs as Record<string, Record<string, unknown>> | undefined
  if (!specs || !Object.keys(specs).length) throw fail(`${path}: eval set has no inputs`)
  for (const [name, spec] of Object.entries(specs)) inputs[name] = decodeInput(name, spec, path)
  const counts = new Set(Object.values(inputs).map((t) => t.dims[0]))
  if (counts.size !== 1) throw fail(`${path}: inputs disagree on the number of samples (${[...counts].join(' vs ')})`)
  const count = [...counts][0]!
  const labels = obj.labels as number[] | undefined
  if (labels && labels.length !== count) throw fail(`${path}: ${labels.length} labels for ${count} samples`)
  if (count === 0) throw fail(`${path}: eval set holds no samples`)
  return {source: path, format: 'evalset', count, inputs, labels}
}

function parseJsonLines(lines: string[], path: string): Dataset {
  const rows: unknown[] = []
  const labels: number[] = []
  lines.forEach((line, i) => {
    let v: unknown
    try {
      v = JSON.parse(line)
    } catch {
      throw fail(`${path}:${i + 1}: not valid JSON; each line must be one instance (array or object)`)
    }
    if (v && typeof v === 'object' && !Array.isArray(v) && Array.isArray((v as {instances?: unknown}).instances)) {
      rows.push(...(v as {instances: unknown[]}).instances)
      return
    }
    if (v && typeof v === 'object' && !Array.isArray(v) && 'instance' in v) {
      rows.push((v as {instance: unknown}).instance)
      const l = (v as {label?: unknown}).label
      if (typeof l === 'number') labels.push(l)
      return
    }
    rows.push(v)
  })
  if (!rows.length) throw fail(`${path} holds no instances`)
  const names = rows[0] && typeof rows[0] === 'object' && !Array.isArray(rows[0]) ? Object.keys(rows[0] as object) : ['*']
  const inputs: Record<string, Tensor> = {}
  for (const name of names) {
    const values = rows.map((r, i) => {
      const x = name === '*' ? r : (r as Record<string, unknown>)[name]
      if (x === undefined) throw fail(`${path}: instance ${i + 1} lacks input ${name}`)
      return x
    })
    const inner = shapeOf(values[0])
    const flat: number[] = []
    values.forEach((x, i) => {
      const s = shapeOf(x)
      if (s.join() !== inner.join()) throw fail(`${path}: instance ${i + 1} of input ${name} has shape [${s}], the first has [${inner}]`)
      flat.push(...([x].flat(Infinity as 1) as number[]))
    })
    const isInt = flat.every((v) => Number.isInteger(v))
    const dtype: DType = isInt && name !== '*' ? 'int64' : 'float32'
    inputs[name] = {dtype, dims: [rows.length, ...inner], data: typedArrayFrom(dtype, flat)}
  }
  return {source: path, format: 'jsonl', count: rows.length, inputs, labels: labels.length === rows.length ? labels : undefined}
}

function shapeOf(x: unknown): number[] {
  const s: number[] = []
  let cur = x
  while (Array.isArray(cur)) {
    s.push(cur.length)
    cur = cur[0]
  }
  return s
}

function loadOnnxTestData(dir: string): Dataset {
  const sets = readdirSync(dir)
    .filter((d) => /^test_data_set_\d+$/.test(d))
    .sort((a, b) => Number(a.split('_').pop()) - Number(b.split('_').pop()))
  const roots = sets.length ? sets.map((s) => join(dir, s)) : [dir]
  const inputs: Record<string, Tensor[]> = {}
  const outputs: Record<string, Tensor[]> = {}
  for (const root of roots) {
    for (const f of readdirSync(root).sort()) {
      const m = /^(input|output)_(\d+)\.pb$/.exec(f)
      if (!m) continue
      let t: TensorProto
      try {
        t = decodeTensor(readFileSync(join(root, f)))
      } catch (err) {
        throw fail(`${join(root, f)} is not a TensorProto (${(err as Error).message})`)
      }
      const h = tensorToHost(t)
      const key = t.name || `#${m[2]}`
      ;(m[1] === 'input' ? inputs : outputs)[key] ??= []
      ;(m[1] === 'input' ? inputs : outputs)[key]!.push({dtype: h.dtype, dims: h.dims, data: h.data})
    }
  }
  if (!Object.keys(inputs).length) throw fail(`${dir} holds no input_K.pb files (expected test_data_set_N/input_K.pb)`)
  const cat = (m: Record<string, Tensor[]>) => Object.fromEntries(Object.entries(m).map(([k, ts]) => [k, concatBatch(ts, dir)]))
  const ins = cat(inputs)
  return {
    source: dir,
    format: 'onnx-test-data',
    count: Object.values(ins)[0]!.dims[0] ?? 1,
    inputs: ins,
    expected: Object.keys(outputs).length ? cat(outputs) : undefined,
  }
}

function concatBatch(ts: Tensor[], where: string): Tensor {
  if (ts.length === 1) return ts[0]!
  const inner = ts[0]!.dims.slice(1).join()
  if (ts.some((t) => t.dims.slice(1).join() !== inner)) throw fail(`${where}: test data sets have different shapes and cannot be stacked`)
  const total = ts.reduce((s, t) => s + t.data.length, 0)
  const Ctor = (ts[0]!.data as TypedArray).constructor as unknown as new (n: number) => TypedArray
  const out = new Ctor(total)
  let off = 0
  for (const t of ts) {
    ;(out as Float32Array).set(t.data as Float32Array, off)
    off += t.data.length
  }
  return {dtype: ts[0]!.dtype, dims: [ts.reduce((s, t) => s + (t.dims[0] ?? 1), 0), ...ts[0]!.dims.slice(1)], data: out}
}

/**
 * Feeds for samples [start, start+count) shaped for the model: dataset names are matched to model
 * inputs ('*' or '#K' by position), per-sample shapes are reshaped when the element counts agree
 * (e.g. [28,28] → [1,28,28] or [784]), and dtypes converted. Mismatches say what the model expects.
 */
export function datasetFeeds(ds: Dataset, modelInputs: TensorInfo[], start = 0, count = ds.count): Feeds {
  const feeds: Feeds = {}
  const names = Object.keys(ds.inputs)
  modelInputs.forEach((info, k) => {
    const src = ds.inputs[info.name] ?? (names.length === 1 && modelInputs.length === 1 ? ds.inputs[names[0]!] : ds.inputs[`#${k}`])
    if (!src) throw fail(`${ds.source} has no data for model input ${info.name} (it has: ${names.join(', ')}); name the inputs as the model does`)
    const per = src.data.length / (src.dims[0] || 1)
    const want = info.shape?.slice(1) ?? src.dims.slice(1)
    const fixed = want.every((d) => typeof d === 'number')
    const wantPer = fixed ? (want as number[]).reduce((a, b) => a * b, 1) : per
    if (fixed && wantPer !== per)
      throw fail(`${ds.source}: input ${info.name} has ${per} values per sample, the model expects shape [${want}] (${wantPer} values)`)
    const dims = [count, ...(fixed ? (want as number[]) : src.dims.slice(1))]
    const slice = (src.data as TypedArray).slice(start * per, (start + count) * per)
    feeds[info.name] = {dtype: info.dtype, dims, data: convert(slice, src.dtype, info.dtype)}
  })
  return feeds
}

function convert(data: TypedArray, from: DType, to: DType): Tensor['data'] {
  if (from === to || to === 'unknown') return data
  return typedArrayFrom(to, Array.from(data as ArrayLike<number | bigint>, Number))
}
