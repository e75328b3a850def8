/**
 * KServe v2 / Open Inference Protocol REST endpoints, on the same server core as TF Serving REST:
 *   GET  /v2, /v2/health/live, /v2/health/ready
 *   GET  /v2/models/{m}[/versions/{v}], .../ready
 *   POST /v2/models/{m}[/versions/{v}]/infer   (JSON, or with the binary tensor data extension)
 *   POST /v2/repository/index, /v2/repository/models/{m}/load, /v2/repository/models/{m}/unload
 * The HTTP front reads the body and writes the answer; this module only maps a request to an answer.
 */
import {badRequest, notFound, TfsoptError} from '../../errors.js'
import {TFSOPT_VERSION} from '../../fixtures.js'
import {shapeForServing, type TensorInfo} from '../../models/dtypes.js'
import {checkShapes, DEFAULT_SIGNATURE} from '../predict-codec.js'
import type {PredictPath} from '../predict-path.js'
import type {Servable} from '../servable.js'
import type {RequestTrace} from '../access-log.js'
import {decodeInferRequest, encodeInferResponse, HEADER_LENGTH} from './v2-infer.js'
import {V2_DATATYPE} from './v2-tensor.js'

export type V2Route =
  | {kind: 'server' | 'live' | 'ready' | 'repository-index'}
  | {kind: 'model' | 'model-ready' | 'infer'; model: string; version?: number}
  | {kind: 'repository-load' | 'repository-unload'; model: string}
  | {kind: 'none'}

const MODEL = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?\/?$/
const REPOSITORY_MODEL = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)\/?$/

const decoded = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s)
  } catch {
    return undefined
  }
}

/** Route for a pathname under /v2 (undefined for any other pathname). */
export function v2Route(pathname: string): V2Route | undefined {
  if (pathname !== '/v2' && !pathname.startsWith('/v2/')) return undefined
  if (pathname === '/v2' || pathname === '/v2/') return {kind: 'server'}
  if (pathname === '/v2/health/live') return {kind: 'live'}
  if (pathname === '/v2/health/ready') return {kind: 'ready'}
  if (pathname === '/v2/repository/index') return {kind: 'repository-index'}
  const rm = REPOSITORY_MODEL.exec(pathname)
  if (rm) {
    const model = decoded(rm[1]!)
    return model === undefined ? {kind: 'none'} : {kind: rm[2] === 'load' ? 'repository-load' : 'repository-unload', model}
  }
  const m = MODEL.exec(pathname)
  if (!m) return {kind: 'none'}
  const model = decoded(m[1]!)
  if (model === undefined) return {kind: 'none'}
  const version = m[2] === undefined ? undefined : /^\d+$/.test(m[2]) ? Number(m[2]) : NaN
  return {kind: m[3] === '/ready' ? 'model-ready' : m[3] === '/infer' ? 'infer' : 'model', model, version}
}

export interface V2Request {
  method: string
  headers: Record<string, string | string[] | undefined>
  /** Read only for POST routes. */
  body(): Promise<Buffer>
  /** An access-logged infer request's timings (access-log.ts). */
  trace?: RequestTrace
}

export interface V2Answer {
  status: number
  body: Buffer | string
  /** Content type and the binary extension's header length, when not plain JSON. */
  headers?: Record<string, string>
  /** The version that answered, for the per-version metrics. */
  servable?: Servable
}

const json = (status: number, v: unknown): V2Answer => ({status, body: JSON.stringify(v)})
const header = (h: V2Request['headers'], name: string) => {
  const v = h[name]
  return Array.isArray(v) ? v[0] : v
}

/** An optional JSON object body (the repository endpoints): empty is {}, anything else must be an object. */
function jsonBody(b: Buffer): Record<string, unknown> {
  if (!b.length || !b.toString().trim()) return {}
  let v: unknown
  try {
    v = JSON.parse(b.toString())
  } catch {
    throw badRequest('the request body is not valid JSON')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('the request body must be a JSON object')
  return v as Record<string, unknown>
}

function want(method: string, allowed: string): void {
  if (method !== allowed) throw new TfsoptError('E_BAD_REQUEST', `${method} is not allowed here; use ${allowed}`, {status: 405})
}

/** Routes the health checks may reach without the API key (as /healthz on the TF Serving side). */
export const v2IsPublic = (r: V2Route) => r.kind === 'live' || r.kind === 'ready'

function resolve(path: PredictPath, model: string, version: number | undefined): Servable {
  if (Number.isNaN(version)) throw notFound(`model '${model}' has no such version; versions are numbers`)
  return path.resolve(model, version)
}

/** resolve() for a request that runs the model (loads it first under a memory budget). */
async function acquire(path: PredictPath, model: string, version: number | undefined): Promise<Servable> {
  if (Number.isNaN(version)) throw notFound(`model '${model}' has no such version; versions are numbers`)
  return path.acquire(model, version)
}

/** The version a v2 request names: a version string ("" for the latest) → number, else 404. */
export function v2Version(model: string, version: string): number | undefined {
  if (version === '') return undefined
  if (!/^\d+$/.test(version)) throw notFound(`model '${model}' has no version '${version}'; versions are numbers`)
  return Number(version)
}

const PLATFORM: Record<string, string> = {onnx: 'onnxruntime_onnx', tfjs: 'tensorflow_js'}
const tensorMeta = (t: TensorInfo) => ({name: t.name, datatype: V2_DATATYPE[t.dtype] ?? t.dtype.toUpperCase(), shape: shapeForServing(t.shape) ?? [-1]})

/** The model metadata answer (REST and gRPC): name, AVAILABLE versions, platform, inputs and outputs. */
export function v2ModelMetadata(path: PredictPath, s: Servable) {
  return {
    name: s.model,
    versions: path
      .available()
      .filter((x) => x.model === s.model)
      .map((x) => String(x.version)),
    platform: PLATFORM[s.info.backend] ?? s.info.backend,
    inputs: s.info.inputs.map(tensorMeta),
    outputs: s.info.outputs.map(tensorMeta),
  }
}

export const V2_SERVER = {name: 'tfsopt', version: TFSOPT_VERSION, extensions: ['binary_tensor_data', 'model_repository']}

export async function handleV2(r: V2Route, req: V2Request, path: PredictPath): Promise<V2Answer> {
  switch (r.kind) {
    case 'server':
      want(req.method, 'GET')
      return json(200, V2_SERVER)
    case 'live':
      want(req.method, 'GET')
      return json(200, {live: true})
    case 'ready': {
      want(req.method, 'GET')
      const ok = path.ready()
      return json(ok ? 200 : 503, {ready: ok})
    }
    case 'repository-index': {
      want(req.method, 'POST')
      // {"ready": true} lists only what can be inferred with now (the extension's one request field).
      const onlyReady = (jsonBody(await req.body()) as {ready?: unknown}).ready === true
      return json(
        200,
        path.repository().filter((e) => !onlyReady || e.state === 'READY'),
      )
    }
    case 'repository-load':
    case 'repository-unload': {
      want(req.method, 'POST')
      if (!path.has(r.model))
        throw notFound(`model '${r.model}' is not in this server's repository (the models given to tfsopt serve or its --model-config-file)`)
      const p = (jsonBody(await req.body()) as {parameters?: unknown}).parameters
      if (p !== undefined && (typeof p !== 'object' || p === null || Object.keys(p).length))
        throw badRequest('load/unload parameters (e.g. a "config" override) are not supported; change the --model-config-file instead')
      await (r.kind === 'repository-load' ? path.load(r.model) : path.unload(r.model))
      return json(200, {})
    }
    case 'model': {
      want(req.method, 'GET')
      const s = await acquire(path, r.model, r.version)
      return {...json(200, v2ModelMetadata(path, s)), servable: s}
    }
    case 'model-ready': {
      want(req.method, 'GET')
      const s = resolve(path, r.model, r.version)
      return {...json(200, {name: s.model, ready: true}), servable: s}
    }
    case 'infer':
      want(req.method, 'POST')
      return infer(r.model, r.version, req, path)
    default:
      throw notFound(
        'no such v2 endpoint; see GET /v2, /v2/health/{live,ready}, /v2/models/{name}[/versions/{v}][/ready], POST /v2/models/{name}[/versions/{v}]/infer',
      )
  }
}

async function infer(model: string, version: number | undefined, req: V2Request, path: PredictPath): Promise<V2Answer> {
  // Overload: refuse before reading a body that could not be queued anyway.
  ;(await acquire(path, model, version)).checkCapacity()
  const body = await req.body()
  // From here to predict() everything is synchronous: a version swap cannot slip in between.
  const s = await acquire(path, model, version)
  const d = decodeInferRequest(body, header(req.headers, HEADER_LENGTH), s.info.inputs, s.info.outputs)
  checkShapes(d.feeds, s.info.inputs)
  const outputs = await path.predict(s, d.feeds, DEFAULT_SIGNATURE, req.trace)
  const names = d.outputs ?? s.outputOrder
  const listed: [string, (typeof outputs)[string]][] = []
  for (const n of names) {
    const t = outputs[n]
    if (!t) throw badRequest(`the model produced no output '${n}'`)
    listed.push([n, t])
  }
  const a = encodeInferResponse({modelName: s.model, modelVersion: String(s.version), id: d.id, outputs: listed, binaryOutputs: d.binaryOutputs})
  if (a.headerLength === undefined) return {status: 200, body: a.body, servable: s}
  return {status: 200, body: a.body, servable: s, headers: {'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(a.headerLength)}}
}
