/**
 * The HTTP side (node:http, no framework on the hot path): auth, routing, body limits, the predict
 * pipeline (decode → cache → batcher → encode), metrics and graceful drain. Everything here is cheap
 * and non-blocking; inference happens in the worker threads.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {TfsoptError, badRequest, errorMessage, notFound} from '../errors.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import {makeAuthCheck} from './auth.js'
import {BINARY_TYPE, TENSORS_HEADER, decodeBinary, encodeBinary} from './binary-codec.js'
import {cacheKey, type ResponseCache} from './cache.js'
import {parseJsonBody} from './json-body.js'
import {modelMetadata} from './metadata.js'
import type {ServerMetrics, VersionMetrics} from './metrics.js'
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
  headersTimeoutMs?: number
  requestTimeoutMs?: number
  log(line: string): void
}

const JSON_TYPE = 'application/json'

const notAllowed = (method: string | undefined, want: string) => new TfsoptError('E_BAD_REQUEST', `${method} is not allowed here; use ${want}`, {status: 405})

class BodyTooLarge extends TfsoptError {
  constructor(limit: number) {
    super('E_TOO_LARGE', `the request body is larger than --max-body-bytes (${limit} bytes); send a smaller batch or raise the limit`)
  }
}

const aborted = () => new TfsoptError('E_BAD_REQUEST', 'the client closed the connection before the request body was complete')

/**
 * Reads the whole body, refusing (413) as soon as it passes `limit` — by the declared length before a
 * byte is read, else by the bytes actually received — so nothing beyond the limit is ever buffered. An
 * upload cut off by the client settles too (no request is left in flight, which would stall a drain).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (declared > limit) return Promise.reject(new BodyTooLarge(limit))
  return new Promise((resolve, reject) => {
    const st: BodyState = {limit, n: 0, first: undefined, chunks: undefined, resolve, reject}
    ;(req as ReqWithBody)[BODY] = st
    req.on('data', onBodyData)
    req.on('end', onBodyEnd)
    req.on('error', onBodyError)
    req.on('close', onBodyClose)
  })
}

// The body listeners are module-level functions (node calls them with `this` = the request) and keep
// their state on the request: no closures are created per request.
const BODY = Symbol('tfsopt.body')
interface BodyState {
  limit: number
  n: number
  first: Buffer | undefined
  chunks: Buffer[] | undefined
  resolve(b: Buffer): void
  reject(e: Error): void
}
type ReqWithBody = IncomingMessage & {[BODY]?: BodyState}

function finishBody(req: ReqWithBody, err: Error | undefined): void {
  const st = req[BODY]
  if (!st) return
  // The listeners stay attached (removing four stream listeners per request costs more than leaving
  // them); with the state gone they do nothing, and the 'error' one still absorbs late errors.
  req[BODY] = undefined
  if (err) {
    // Stop buffering; node discards whatever else arrives, and the error answer closes the connection.
    req.resume()
    st.reject(err)
  } else st.resolve(st.chunks ? Buffer.concat(st.chunks, st.n) : (st.first ?? Buffer.alloc(0)))
}

function onBodyData(this: ReqWithBody, c: Buffer): void {
  const st = this[BODY]
  if (!st) return
  st.n += c.length
  if (st.n > st.limit) {
    finishBody(this, new BodyTooLarge(st.limit))
    return
  }
  if (!st.first) st.first = c
  else (st.chunks ??= [st.first]).push(c)
}

function onBodyEnd(this: ReqWithBody): void {
  finishBody(this, undefined)
}

function onBodyError(this: ReqWithBody, err: Error): void {
  finishBody(this, err)
}

function onBodyClose(this: ReqWithBody): void {
  // After a complete upload 'end' still follows; before it, the client went away mid-body.
  if (!this.complete) finishBody(this, aborted())
}

/** A body that is chunked or over 64 KiB: not worth reading only to throw it away. */
function hasLargeBody(req: IncomingMessage): boolean {
  if (req.complete) return false
  const te = req.headers['transfer-encoding']
  return te !== undefined || Number(req.headers['content-length']) > 65_536
}

const JSON_HEADERS = (len: number) => ({'content-type': JSON_TYPE, 'content-length': len})

function send(res: ServerResponse, status: number, body: string | Buffer, type = JSON_TYPE, extra?: Record<string, string>): void {
  const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  if (extra) res.writeHead(status, {'content-type': type, 'content-length': len, ...extra})
  else if (type === JSON_TYPE) res.writeHead(status, JSON_HEADERS(len))
  else res.writeHead(status, {'content-type': type, 'content-length': len})
  res.end(body)
}

const sendError = (res: ServerResponse, status: number, message: string, extra?: Record<string, string>) =>
  send(res, status, JSON.stringify({error: message}), JSON_TYPE, extra)

/**
 * Broken HTTP (bad framing, Content-Length with Transfer-Encoding, oversized headers, timeouts) never
 * reaches a handler; node would answer it with a bodiless 400. Answer as every other error does, with
 * {"error": ...}, then close — mirroring node's own rule of writing only when nothing of a response has
 * gone out on the socket yet.
 */
function onClientError(err: Error & {code?: string}, socket: Duplex): void {
  const inFlight = (socket as Duplex & {_httpMessage?: {headersSent?: boolean}})._httpMessage
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy()
    return
  }
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are larger than the server accepts (16 KiB)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request was not received in time; send headers and body without long pauses']
        : [400, 'Bad Request', `malformed HTTP request (${err.code ?? 'parse error'}); send a well-formed HTTP/1.1 request`]
  const body = JSON.stringify({error: message})
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  socket.once('finish', () => socket.destroy()) // the answer is out: stop reading whatever else comes
}

/** How long a client may take to send a request's headers, and the whole request (slowloris bounds). */
export const HEADERS_TIMEOUT_MS = 20_000
export const REQUEST_TIMEOUT_MS = 120_000
const ROUTE_CACHE_MAX = 256

export class HttpFront {
  readonly server: Server
  private inflight = 0
  private draining = false
  private idleWaiters: (() => void)[] = []
  private readonly authorized: (h: string | undefined) => boolean
  /** Raw URL → route: the regex and percent-decoding run once per distinct URL, not per request. */
  private routes = new Map<string, Route>()

  constructor(private readonly ctx: HttpContext) {
    this.authorized = makeAuthCheck(ctx.apiKey)
    const requestTimeout = ctx.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
    // node refuses a headers timeout longer than the request timeout (0 turns the latter off).
    const headersTimeout = Math.min(ctx.headersTimeoutMs ?? HEADERS_TIMEOUT_MS, requestTimeout || Infinity)
    this.server = createServer(
      {
        headersTimeout,
        requestTimeout,
        // node checks those two timeouts every connectionsCheckingInterval (30 s by default): check often
        // enough that a slow client is cut off close to its deadline.
        connectionsCheckingInterval: Math.max(250, Math.min(1000, headersTimeout / 4)),
      },
      (req, res) => void this.handle(req, res),
    )
    this.server.keepAliveTimeout = 65_000
    this.server.on('clientError', onClientError)
  }

  private routeOf(url: string): Route {
    let r = this.routes.get(url)
    if (r === undefined) {
      const q = url.indexOf('?')
      r = route(q < 0 ? url : url.slice(0, q))
      if (this.routes.size >= ROUTE_CACHE_MAX) this.routes.clear()
      this.routes.set(url, r)
    }
    return r
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now()
    this.inflight++
    let vm: VersionMetrics | undefined
    let status = 500
    let bodyRead = false
    try {
      const r = this.routeOf(req.url ?? '/')
      if (this.draining) {
        status = 503
        return sendError(res, 503, 'the server is shutting down; retry against another instance', {connection: 'close'})
      }
      if (r.kind !== 'health' && !this.authorized(req.headers.authorization)) {
        status = 401
        return sendError(res, 401, 'missing or wrong API key: send "Authorization: Bearer <key>" (the key given with --api-key or TFSOPT_API_KEY)', {
          'www-authenticate': 'Bearer',
        })
      }
      // Requests for a served model count under {model, version: ''} until a version is resolved.
      if ('model' in r && this.ctx.manager.has(r.model)) vm = this.ctx.metrics.forVersion(r.model, '')
      if (r.kind === 'predict') {
        // The hot path, inline: body → resolve → predict.
        if (req.method !== 'POST') throw notAllowed(req.method, 'POST')
        if (Number.isNaN(r.version)) throw notFound(`version must be a number`)
        // Overload: refuse before reading and parsing a body that could not be queued anyway.
        const pre = this.ctx.manager.resolve(r.model, r.version, r.label)
        vm = pre.metrics
        pre.checkCapacity()
        const body = await readBody(req, this.ctx.maxBodyBytes)
        bodyRead = true
        // From here to submit() everything is synchronous: a version swap cannot slip in between.
        const s = this.ctx.manager.resolve(r.model, r.version, r.label)
        vm = s.metrics
        status = await this.predict(s, req, res, body)
      } else {
        const served: {vm?: VersionMetrics} = {}
        status = await this.dispatch(r, req, res, served)
        if (served.vm) vm = served.vm
      }
    } catch (err) {
      status = err instanceof TfsoptError ? err.status : 500
      // A large body we never read would be read and thrown away to keep the connection: close it instead.
      const extra = err instanceof BodyTooLarge || (!bodyRead && hasLargeBody(req)) ? {connection: 'close'} : undefined
      if (!res.headersSent) sendError(res, status, err instanceof TfsoptError ? err.message : `internal error: ${errorMessage(err)}`, extra)
      if (status === 500 && !(err instanceof TfsoptError)) this.ctx.log(`internal error on ${req.method} ${req.url}: ${(err as Error).stack ?? err}`)
    } finally {
      if (vm) {
        vm.request(status)
        vm.requestLatency.observe((performance.now() - t0) / 1000)
      }
      this.inflight--
      if (this.inflight === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w()
    }
  }

  /** Handles one routed request other than predict; returns the HTTP status it answered. */
  private async dispatch(r: Route, req: IncomingMessage, res: ServerResponse, served: {vm?: VersionMetrics}): Promise<number> {
    const {manager} = this.ctx
    const method = req.method ?? 'GET'
    switch (r.kind) {
      case 'health': {
        const ok = manager.allAvailable()
        send(res, ok ? 200 : 503, JSON.stringify({status: ok ? 'ok' : 'loading'}))
        return ok ? 200 : 503
      }
      case 'metrics': {
        if (method !== 'GET') throw notAllowed(method, 'GET')
        send(res, 200, await this.ctx.metrics.render(), this.ctx.metrics.contentType)
        return 200
      }
      case 'kill-worker': {
        if (!this.ctx.testHooks) throw notFound('no such endpoint (the test hooks are off; set TFSOPT_TEST_HOOKS=1 to enable them)')
        if (method !== 'POST') throw notAllowed(method, 'POST')
        return this.killWorker(req, res)
      }
      case 'status':
      case 'metadata': {
        if (method !== 'GET') throw notAllowed(method, 'GET')
        if (Number.isNaN(r.version)) throw notFound(`version must be a number`)
        if (r.kind === 'status') {
          send(res, 200, JSON.stringify(manager.status(r.model, r.version, r.label)))
          return 200
        }
        const s = manager.resolve(r.model, r.version, r.label)
        served.vm = s.metrics
        send(res, 200, JSON.stringify(modelMetadata(s.model, s.version, s.info.inputs, s.info.outputs)))
        return 200
      }
      case 'unsupported-method':
        throw badRequest(`:${r.method} is not supported; tfsopt serves ONNX/TF.js models, which have no tf.Example signatures — use :predict`)
      default:
        throw notFound(
          `no such endpoint: ${req.method} ${req.url}; see GET /v1/models/{name}, /v1/models/{name}/metadata, POST /v1/models/{name}:predict, /metrics`,
        )
    }
  }

  private async predict(s: Servable, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<number> {
    const {cache} = this.ctx
    const vm = s.metrics
    const binaryIn = req.headers['content-type']?.startsWith(BINARY_TYPE) ?? false
    const accept = req.headers.accept
    const binaryOut = accept?.includes(BINARY_TYPE)
    let feeds: Feeds
    let format: PredictFormat = 'columnar'
    let signature = DEFAULT_SIGNATURE
    const t0 = performance.now()
    if (binaryIn) {
      feeds = decodeBinary(body, req.headers[TENSORS_HEADER] as string | undefined, s.info.inputs)
      checkShapes(feeds, s.info.inputs)
    } else {
      const d = decodePredict(parseJsonBody(body.toString('utf8')), s.info.inputs)
      feeds = d.feeds
      format = d.format
      signature = d.signature
    }
    const t1 = performance.now()
    vm.decodeSeconds.inc((t1 - t0) / 1000)
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
    const t2 = performance.now()
    if (binaryOut) {
      const {header, body: out} = encodeBinary(outputs, s.outputOrder)
      vm.encodeSeconds.inc((performance.now() - t2) / 1000)
      send(res, 200, out, BINARY_TYPE, {[TENSORS_HEADER]: header})
    } else {
      const out = encodePredict(format, outputs, s.outputOrder)
      vm.encodeSeconds.inc((performance.now() - t2) / 1000)
      send(res, 200, out)
    }
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
