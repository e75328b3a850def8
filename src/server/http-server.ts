/**
 * The HTTP side (node:http, no framework on the hot path): auth, routing, body limits, the predict
 * pipeline (decode → cache → batcher → encode), metrics and graceful drain. Everything here is cheap
 * and non-blocking; inference happens in the worker threads.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {TfsoptError, badRequest, errorMessage, notFound} from '../errors.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import {makeAuthCheck} from './auth.js'
import {BINARY_TYPE, TENSORS_HEADER, decodeBinary, encodeBinary} from './binary-codec.js'
import {cacheKey, type ResponseCache} from './cache.js'
import {parseJsonBody} from './json-body.js'
import {modelMetadata} from './metadata.js'
import type {ServerMetrics} from './metrics.js'
import type {ModelManager} from './model-manager.js'
import {DEFAULT_SIGNATURE, checkShapes, decodePredict, encodePredict, type PredictFormat} from './predict-codec.js'
import {route, type Route} from './routes.js'
import type {Servable} from './servable.js'

export interface HttpContext {
  manager: ModelManager
  metrics: ServerMetrics
  cache: ResponseCache
  apiKey?: string
  maxBodyBytes: number
  testHooks: boolean
  log(line: string): void
}

const JSON_TYPE = 'application/json'

class BodyTooLarge extends TfsoptError {
  constructor(limit: number) {
    super('E_TOO_LARGE', `the request body is larger than --max-body-bytes (${limit} bytes); send a smaller batch or raise the limit`)
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let n = 0
    req.on('data', (c: Buffer) => {
      n += c.length
      if (n > limit) {
        req.removeAllListeners('data')
        req.resume()
        reject(new BodyTooLarge(limit))
        return
      }
      chunks.push(c)
    })
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n)))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = JSON_TYPE, extra: Record<string, string> = {}): void {
  res.writeHead(status, {'content-type': type, 'content-length': Buffer.byteLength(body), ...extra})
  res.end(body)
}

const sendError = (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}) =>
  send(res, status, JSON.stringify({error: message}), JSON_TYPE, extra)

export class HttpFront {
  readonly server: Server
  private inflight = 0
  private draining = false
  private idleWaiters: (() => void)[] = []
  private readonly authorized: (h: string | undefined) => boolean

  constructor(private readonly ctx: HttpContext) {
    this.authorized = makeAuthCheck(ctx.apiKey)
    this.server = createServer((req, res) => void this.handle(req, res))
    this.server.keepAliveTimeout = 65_000
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now()
    this.inflight++
    let labels = {model: '', version: ''}
    let status = 500
    try {
      const path = (req.url ?? '/').split('?')[0]!
      const r = route(path)
      if (this.draining) {
        status = 503
        return sendError(res, 503, 'the server is shutting down; retry against another instance', {connection: 'close'})
      }
      if (r.kind !== 'health' && !this.authorized(req.headers.authorization)) {
        status = 401
        return sendError(res, 401, 'missing or wrong API key: send "Authorization: Bearer <key>" (the key given with --api-key or TFSOPT_API_KEY)', {'www-authenticate': 'Bearer'})
      }
      if ('model' in r && this.ctx.manager.has(r.model)) labels = {model: r.model, version: ''}
      status = await this.dispatch(r, req, res, (s) => (labels = {model: s.model, version: String(s.version)}))
    } catch (err) {
      status = err instanceof TfsoptError ? err.status : 500
      const extra: Record<string, string> = err instanceof BodyTooLarge ? {connection: 'close'} : {}
      if (!res.headersSent) sendError(res, status, err instanceof TfsoptError ? err.message : `internal error: ${errorMessage(err)}`, extra)
      if (status === 500 && !(err instanceof TfsoptError)) this.ctx.log(`internal error on ${req.method} ${req.url}: ${(err as Error).stack ?? err}`)
    } finally {
      if (labels.model) {
        const vm = this.ctx.metrics.forVersion(labels.model, labels.version)
        vm.request(status)
        vm.requestLatency.observe((performance.now() - t0) / 1000)
      }
      this.inflight--
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  /** Handles one routed request; returns the HTTP status it answered. */
  private async dispatch(r: Route, req: IncomingMessage, res: ServerResponse, served: (s: Servable) => void): Promise<number> {
    const {manager} = this.ctx
    const method = req.method ?? 'GET'
    const need = (m: string) => {
      if (method !== m) throw new TfsoptError('E_BAD_REQUEST', `${method} is not allowed here; use ${m}`, {status: 405})
    }
    switch (r.kind) {
      case 'health': {
        const ok = manager.allAvailable()
        send(res, ok ? 200 : 503, JSON.stringify({status: ok ? 'ok' : 'loading'}))
        return ok ? 200 : 503
      }
      case 'metrics': {
        need('GET')
        send(res, 200, await this.ctx.metrics.render(), this.ctx.metrics.contentType)
        return 200
      }
      case 'kill-worker': {
        if (!this.ctx.testHooks) throw notFound('no such endpoint (the test hooks are off; set TFSOPT_TEST_HOOKS=1 to enable them)')
        need('POST')
        return this.killWorker(req, res)
      }
      case 'status': case 'metadata': {
        need('GET')
        if (Number.isNaN(r.version)) throw notFound(`version must be a number`)
        if (r.kind === 'status') {
          send(res, 200, JSON.stringify(manager.status(r.model, r.version, r.label)))
          return 200
        }
        const s = manager.resolve(r.model, r.version, r.label)
        served(s)
        send(res, 200, JSON.stringify(modelMetadata(s.model, s.version, s.info.inputs, s.info.outputs)))
        return 200
      }
      case 'predict': {
        need('POST')
        if (Number.isNaN(r.version)) throw notFound(`version must be a number`)
        const body = await readBody(req, this.ctx.maxBodyBytes)
        return this.predict(r, req, res, body, served)
      }
      case 'unsupported-method':
        throw badRequest(`:${r.method} is not supported; tfsopt serves ONNX/TF.js models, which have no tf.Example signatures — use :predict`)
      default:
        throw notFound(`no such endpoint: ${req.method} ${req.url}; see GET /v1/models/{name}, /v1/models/{name}/metadata, POST /v1/models/{name}:predict, /metrics`)
    }
  }

  private async predict(r: Extract<Route, {kind: 'predict'}>, req: IncomingMessage, res: ServerResponse, body: Buffer, served: (s: Servable) => void): Promise<number> {
    const {metrics, cache} = this.ctx
    // From here to submit() everything is synchronous: a version swap cannot slip in between.
    const s = this.ctx.manager.resolve(r.model, r.version, r.label)
    served(s)
    const vm = metrics.forVersion(s.model, String(s.version))
    const binaryIn = (req.headers['content-type'] ?? '').startsWith(BINARY_TYPE)
    const binaryOut = (req.headers.accept ?? '').includes(BINARY_TYPE)
    let feeds: Feeds
    let format: PredictFormat = 'columnar'
    let signature = DEFAULT_SIGNATURE
    if (binaryIn) {
      feeds = decodeBinary(body, req.headers[TENSORS_HEADER] as string | undefined, s.info.inputs)
      checkShapes(feeds, s.info.inputs)
    } else {
      const d = decodePredict(parseJsonBody(body.toString('utf8')), s.info.inputs)
      feeds = d.feeds
      format = d.format
      signature = d.signature
    }
    const order = s.info.outputs.map((o) => o.name)
    let outputs: Record<string, Tensor> | undefined
    let key: string | undefined
    if (cache.enabled) {
      key = cacheKey(s.model, s.version, signature, feeds)
      outputs = cache.get(key)
      if (outputs) vm.cacheHits.inc()
      else vm.cacheMisses.inc()
    }
    if (!outputs) {
      vm.inflight.inc()
      try {
        outputs = await s.predict(feeds, signature)
      } finally {
        vm.inflight.dec()
      }
      if (key) cache.set(key, s.model, s.version, outputs)
    }
    if (binaryOut) {
      const {header, body: out} = encodeBinary(outputs, order)
      send(res, 200, out, BINARY_TYPE, {[TENSORS_HEADER]: header})
    } else send(res, 200, encodePredict(format, outputs, order))
    return 200
  }

  private async killWorker(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const q = new URL(req.url ?? '/', 'http://x').searchParams
    const mode = q.get('mode') === 'next' ? 'next' : 'now'
    const model = q.get('model')
    const s = this.ctx.manager.available().find((x) => !model || x.model === model)
    if (!s) throw notFound(`no AVAILABLE model${model ? ` named '${model}'` : ''} to kill a worker of`)
    const killed = s.killWorker(mode)
    this.ctx.log(`test hook: kill-worker (${mode}) on ${s.model} v${s.version}: ${killed ? 'done' : 'no live worker'}`)
    send(res, 200, JSON.stringify({killed, model: s.model, version: s.version, mode}))
    return 200
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        const addr = this.server.address()
        resolve(typeof addr === 'object' && addr ? addr.port : port)
      })
    })
  }

  /** Stops accepting, lets in-flight requests finish (up to drainMs); returns the time left. */
  async drain(drainMs: number): Promise<number> {
    const t0 = Date.now()
    this.draining = true
    this.server.close()
    this.server.closeIdleConnections()
    if (this.inflight > 0) {
      let t: NodeJS.Timeout | undefined
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => (t = setTimeout(r, drainMs)))])
      clearTimeout(t)
    }
    return Math.max(0, drainMs - (Date.now() - t0))
  }

  closeAll(): void {
    this.server.closeAllConnections()
  }
}
