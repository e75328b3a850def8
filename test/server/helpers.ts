/** Shared by the server tests: tiny real ONNX models built in a temp dir, and HTTP helpers. */
import {existsSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {encodeModel} from '../../src/models/onnx/proto.js'
import {makeTensor, makeValueInfo} from '../../src/models/onnx/tensor.js'
import type {DType, Dim} from '../../src/models/dtypes.js'
import {DEFAULT_MODEL, packagedModel} from '../../src/fixtures.js'
import {openSession} from '../../src/runtime/load.js'
import type {Feeds, Tensor} from '../../src/runtime/types.js'
import {startServer, type ServerOptions} from '../../src/server/index.js'

export const tmp = (prefix = 'tfsopt-serve-') => mkdtempSync(join(tmpdir(), prefix))

function save(path: string, model: ReturnType<typeof makeModel>): string {
  writeFileSync(path, encodeModel(model))
  return path
}

/** The MNIST MLP when it has been built, else the PP-OCR direction classifier. */
export function primaryModel(): {path: string; input: string; rowShape: number[]} {
  if (existsSync(DEFAULT_MODEL)) return {path: DEFAULT_MODEL, input: 'input', rowShape: [784]}
  return {path: packagedModel('ppocr-cls')!, input: 'x', rowShape: [3, 48, 192]}
}

/** y = x * scale, x float32 [batch, 4] (versions differ by scale). */
export function scaleModel(path: string, scale: number): string {
  return save(path, makeModel({
    name: 'scale',
    nodes: [makeNode('Mul', ['x', 'k'], ['y'])],
    inputs: [makeValueInfo('x', 'float32', ['batch', 4])],
    outputs: [makeValueInfo('y', 'float32', ['batch', 4])],
    initializers: [makeTensor('k', 'float32', [1], [scale])],
  }))
}

/** Three inputs of three types, three outputs: a*2 (float), b+1 (int64), not(flag) (bool). */
export function multiModel(path: string): string {
  return save(path, makeModel({
    name: 'multi',
    nodes: [makeNode('Mul', ['a', 'two'], ['doubled']), makeNode('Add', ['b', 'one'], ['incremented']), makeNode('Not', ['flag'], ['negated'])],
    inputs: [makeValueInfo('a', 'float32', ['batch', 3]), makeValueInfo('b', 'int64', ['batch', 2]), makeValueInfo('flag', 'bool', ['batch'])],
    outputs: [makeValueInfo('doubled', 'float32', ['batch', 3]), makeValueInfo('incremented', 'int64', ['batch', 2]), makeValueInfo('negated', 'bool', ['batch'])],
    initializers: [makeTensor('two', 'float32', [1], [2]), makeTensor('one', 'int64', [1], [1])],
  }))
}

/** Strings in, the same strings out twice: once plainly, once under a *_bytes name (answered as b64). */
export function stringModel(path: string): string {
  return save(path, makeModel({
    name: 'strings',
    nodes: [makeNode('Identity', ['text'], ['echo']), makeNode('Identity', ['text'], ['echo_bytes'])],
    inputs: [makeValueInfo('text', 'string', ['batch'])],
    outputs: [makeValueInfo('echo', 'string', ['batch']), makeValueInfo('echo_bytes', 'string', ['batch'])],
    initializers: [],
  }))
}

export const IDENTITY_TYPES: DType[] = ['float16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'uint64']

/** One Identity per element type: in_<type> → out_<type>, each [batch, 2]. */
export function typesModel(path: string): string {
  return save(path, makeModel({
    name: 'types',
    nodes: IDENTITY_TYPES.map((t) => makeNode('Identity', [`in_${t}`], [`out_${t}`])),
    inputs: IDENTITY_TYPES.map((t) => makeValueInfo(`in_${t}`, t, ['batch', 2] as Dim[])),
    outputs: IDENTITY_TYPES.map((t) => makeValueInfo(`out_${t}`, t, ['batch', 2] as Dim[])),
    initializers: [],
    opset: 19,
  }))
}

/** A model without a dynamic batch dimension: x float32 [1, 4] → relu. */
export function fixedModel(path: string): string {
  return save(path, makeModel({
    name: 'fixed',
    nodes: [makeNode('Relu', ['x'], ['y'])],
    inputs: [makeValueInfo('x', 'float32', [1, 4])],
    outputs: [makeValueInfo('y', 'float32', [1, 4])],
    initializers: [],
  }))
}

/** A TF Serving base path holding version directories with scale models. */
export function versionedBase(dir: string, versions: Record<number, number>): string {
  for (const [v, scale] of Object.entries(versions)) {
    mkdirSync(join(dir, v), {recursive: true})
    scaleModel(join(dir, v, 'model.onnx'), scale)
  }
  return dir
}

export const quiet = () => {}

export async function serve(opts: ServerOptions) {
  return startServer({port: 0, workers: 1, intraOpThreads: 1, warmup: 0, pollSeconds: 0, log: quiet, ...opts})
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{status: number; json: any; text: string}> {
  const r = await fetch(url, {method: 'POST', body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body), headers: {'content-type': 'application/json', ...headers}})
  const text = await r.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: r.status, json, text}
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{status: number; json: any; text: string}> {
  const r = await fetch(url, {headers})
  const text = await r.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: r.status, json, text}
}

/** Runs the model directly in the runtime (the reference the server's answers are compared with). */
export async function runDirect(path: string, feeds: Feeds): Promise<Record<string, Tensor>> {
  const s = await openSession(path, {device: 'cpu', intraOpThreads: 1})
  try {
    return await s.run(feeds)
  } finally {
    await s.dispose()
  }
}

/** Value of one Prometheus sample, e.g. metric(text, 'tfsopt_batches_total', {model: 'm'}). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  let found = false
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1))
      found = true
    }
  }
  return found ? sum : NaN
}

/** Deterministic pseudo-random floats in [0, 1). */
export function floats(n: number, seed = 1): number[] {
  let s = seed >>> 0
  return Array.from({length: n}, () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  })
}

/** Nests a flat list into the given shape. */
export function nest(flat: ArrayLike<number>, shape: number[]): unknown {
  let k = 0
  const walk = (d: number): unknown => (d === shape.length ? flat[k++] : Array.from({length: shape[d]!}, () => walk(d + 1)))
  return walk(0)
}
