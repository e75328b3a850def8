/**
 * The HTTP side (node:http, no framework on the hot path): the server, auth, routing to the predict
 * handler (predict-handler.ts) or the others (admin-handlers.ts), per-request metrics and graceful
 * drain. Body reading is in body-reader.ts, answers in http-reply.ts. Inference happens in the workers.
 */
import {waitIdle} from './drain.js'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {TfsoptError, errorMessage, notFound} from '../errors.js'
import {handleAdmin} from './admin-handlers.js'
import {makeAuthCheck} from './auth.js'
import type {BodyBudget, BodyLease} from './body-budget.js'
import type {BodyPool} from './body-pool.js'
import {BodyTooLarge, declaredLength, hasLargeBody, readBody} from './body-reader.js'
import type {ResponseCache} from './cache.js'
import {notAllowed, onClientError, sendError} from './http-reply.js'
import type {ServerMetrics, VersionMetrics} from './metrics.js'
import type {ModelManager} from './model-manager.js'
import {handlePredict} from './predict-handler.js'
import type {JsonCodec} from './json-offload.js'
import {route, type Route} from './routes.js'
import {serveV2} from './kserve/v2-http.js'
import {v2IsPublic} from './kserve/v2-handler.js'
import {makePredictPath, type PredictPath} from './predict-path.js'
import type {AccessLog, Protocol, RequestTrace} from './access-log.js'
import type {Servable} from './servable.js'

export interface HttpContext {
  manager: ModelManager
  metrics: ServerMetrics
  cache: ResponseCache
  apiKey?: string
  maxBodyBytes: number
  /** Server-wide bound on request-body bytes in flight (--max-inflight-body-bytes). */
  budget: BodyBudget
  /** Recycled buffers for large predict bodies (body-pool.ts). */
  bodyPool?: BodyPool
  testHooks: boolean
  /** Where large JSON predict bodies are parsed and answers written (--json-codec). */
  jsonCodec?: JsonCodec
  headersTimeoutMs?: number
  requestTimeoutMs?: number
  /** --access-log: one line per inference request (access-log.ts). */
  accessLog?: AccessLog
  log(line: string): void
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
  /** What the KServe v2 endpoints run on (the same manager, cache and key as TF Serving REST). */
  private readonly path: PredictPath

  constructor(private readonly ctx: HttpContext) {
    this.authorized = makeAuthCheck(ctx.apiKey)
    this.path = makePredictPath(ctx.manager, ctx.cache, ctx.apiKey)
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
    let lease: BodyLease | undefined
    // Access log: decided when the request arrives; `logged` is only set for a sampled inference request.
    let logged: {id: string; protocol: Protocol; model: string; version?: number; trace: RequestTrace} | undefined
    let bytesIn = 0
    let pinned: Servable | undefined
    try {
      const r = this.routeOf(req.url ?? '/')
      const alog = this.ctx.accessLog
      if (alog && (r.kind === 'predict' || (r.kind === 'v2' && r.v2.kind === 'infer'))) {
        const id = alog.requestId(req.headers['x-request-id'])
        res.setHeader('x-request-id', id)
        if (alog.take())
          logged =
            r.kind === 'predict'
              ? {id, protocol: 'rest', model: r.model, version: r.version, trace: {}}
              : {id, protocol: 'v2-rest', model: (r.v2 as {model: string}).model, version: (r.v2 as {version?: number}).version, trace: {}}
      }
      if (this.draining) {
        status = 503
        return sendError(res, 503, 'the server is shutting down; retry against another instance', {connection: 'close'})
      }
      if (r.kind !== 'health' && !(r.kind === 'v2' && v2IsPublic(r.v2)) && !this.authorized(req.headers.authorization)) {
        status = 401
        return sendError(res, 401, 'missing or wrong API key: send "Authorization: Bearer <key>" (the key given with --api-key or TFSOPT_API_KEY)', {
          'www-authenticate': 'Bearer',
        })
      }
      // Requests for a served model count under {model, version: ''} until a version is resolved.
      if ('model' in r && this.ctx.manager.has(r.model)) vm = this.ctx.metrics.forVersion(r.model, '')
      if (r.kind === 'v2' && 'model' in r.v2 && this.ctx.manager.has(r.v2.model)) vm = this.ctx.metrics.forVersion(r.v2.model, '')
      if (r.kind === 'predict') {
        // The hot path, inline: body → resolve → predict.
        if (req.method !== 'POST') throw notAllowed(req.method, 'POST')
        if (Number.isNaN(r.version)) throw notFound(`version must be a number`)
        // Overload: refuse before reading and parsing a body that could not be queued anyway. Under a
        // memory budget this is where a model that is not loaded gets loaded (the request waits).
        let pre = this.ctx.manager.acquire(r.model, r.version, r.label)
        if (pre instanceof Promise) {
          pre = await pre
          // This request waited for an on-demand load: say so, so that a client (tfsopt bench --models)
          // can split cold starts from steady requests without asking the status first.
          res.setHeader('x-tfsopt-cold-start', '1')
        }
        vm = pre.metrics
        pre.checkCapacity()
        // Pinned while the body is read: the memory budget does not evict a model a request is about to use.
        pinned = pre
        pre.pins++
        // Room for the body in the server-wide budget first (a declared length at once, waiting briefly;
        // a chunked body chunk by chunk); a body over --max-body-bytes gets its 413 from readBody.
        lease = await this.acquireFor(req)
        const body = await readBody(req, this.ctx.maxBodyBytes, lease, this.ctx.bodyPool)
        bodyRead = true
        bytesIn = body.length
        // From here to submit() everything is synchronous: a version swap cannot slip in between.
        let s = this.ctx.manager.acquire(r.model, r.version, r.label)
        if (s instanceof Promise) s = await s
        vm = s.metrics
        if (logged) logged.version = s.version
        status = await handlePredict(this.ctx.cache, s, req, res, body, lease, this.ctx.jsonCodec, logged?.trace, this.ctx.bodyPool)
      } else if (r.kind === 'v2') {
        // KServe v2 bodies share the in-flight budget and the size limit with TF Serving REST.
        const read = async () => {
          lease = await this.acquireFor(req)
          const body = await readBody(req, this.ctx.maxBodyBytes, lease)
          bodyRead = true
          bytesIn = body.length
          return body
        }
        const a = await serveV2(r.v2, req, res, this.path, read, logged?.trace)
        if (a.servable) vm = a.servable.metrics
        if (a.servable && logged) logged.version = a.servable.version
        status = a.status
      } else {
        const served: {vm?: VersionMetrics} = {}
        status = await handleAdmin(this.ctx, r, req, res, served)
        if (served.vm) vm = served.vm
      }
    } catch (err) {
      status = err instanceof TfsoptError ? err.status : 500
      // A large body we never read would be read and thrown away to keep the connection: close it instead.
      const extra = err instanceof BodyTooLarge || (!bodyRead && hasLargeBody(req)) ? {connection: 'close'} : undefined
      if (!res.headersSent) sendError(res, status, err instanceof TfsoptError ? err.message : `internal error: ${errorMessage(err)}`, extra)
      if (status === 500 && !(err instanceof TfsoptError)) this.ctx.log(`internal error on ${req.method} ${req.url}: ${(err as Error).stack ?? err}`)
    } finally {
      if (pinned) pinned.pins--
      lease?.release()
      if (vm) {
        vm.request(status)
        vm.requestLatency.observe((performance.now() - t0) / 1000)
      }
      this.inflight--
      if (this.inflight === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w()
      // After the answer went out: serialised here, written asynchronously by pino's destination.
      if (logged)
        this.ctx.accessLog!.write({
          requestId: logged.id,
          protocol: logged.protocol,
          model: logged.model,
          version: logged.version,
          status,
          latencyMs: performance.now() - t0,
          bytesIn: bodyRead ? bytesIn : (declaredLength(req) ?? 0),
          bytesOut: Number(res.getHeader('content-length') ?? 0),
          trace: logged.trace,
        })
    }
  }

  /** Room in the server-wide budget for a body: its declared length at once, or chunk by chunk (readBody). */
  private acquireFor(req: IncomingMessage): Promise<BodyLease> {
    const declared = declaredLength(req)
    return this.ctx.budget.acquire(declared !== undefined && declared <= this.ctx.maxBodyBytes ? declared : 0)
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
  drain(drainMs: number): Promise<number> {
    this.draining = true
    this.server.close()
    this.server.closeIdleConnections()
    return waitIdle(this.inflight, this.idleWaiters, drainMs)
  }

  closeAll(): void {
    this.server.closeAllConnections()
  }
}
