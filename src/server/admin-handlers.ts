/** Every route other than predict: health, metrics, model status and metadata, the kill-worker test hook. */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {badRequest, notFound} from '../errors.js'
import {notAllowed, send} from './http-reply.js'
import {modelMetadata} from './metadata.js'
import type {ServerMetrics, VersionMetrics} from './metrics.js'
import type {ModelManager} from './model-manager.js'
import type {Route} from './routes.js'

export interface AdminContext {
  manager: ModelManager
  metrics: ServerMetrics
  testHooks: boolean
  log(line: string): void
}

/** Handles one routed request other than predict; returns the HTTP status it answered. */
export async function handleAdmin(ctx: AdminContext, r: Route, req: IncomingMessage, res: ServerResponse, served: {vm?: VersionMetrics}): Promise<number> {
  const {manager} = ctx
  const method = req.method ?? 'GET'
  switch (r.kind) {
    case 'health': {
      const ok = manager.allAvailable()
      send(res, ok ? 200 : 503, JSON.stringify({status: ok ? 'ok' : 'loading'}))
      return ok ? 200 : 503
    }
    case 'metrics': {
      if (method !== 'GET') throw notAllowed(method, 'GET')
      send(res, 200, await ctx.metrics.render(), ctx.metrics.contentType)
      return 200
    }
    case 'kill-worker': {
      if (!ctx.testHooks) throw notFound('no such endpoint (the test hooks are off; set TFSOPT_TEST_HOOKS=1 to enable them)')
      if (method !== 'POST') throw notAllowed(method, 'POST')
      return killWorker(ctx, req, res)
    }
    case 'status':
    case 'metadata': {
      if (method !== 'GET') throw notAllowed(method, 'GET')
      if (Number.isNaN(r.version)) throw notFound(`version must be a number`)
      if (r.kind === 'status') {
        send(res, 200, JSON.stringify(manager.status(r.model, r.version, r.label)))
        return 200
      }
      // Metadata needs the session's inputs and outputs: under a memory budget this loads the model.
      let s = manager.acquire(r.model, r.version, r.label)
      if (s instanceof Promise) s = await s
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

async function killWorker(ctx: AdminContext, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const q = new URL(req.url ?? '/', 'http://x').searchParams
  const mode = q.get('mode') === 'next' ? 'next' : 'now'
  const model = q.get('model')
  const s = ctx.manager.available().find((x) => !model || x.model === model)
  if (!s) throw notFound(`no AVAILABLE model${model ? ` named '${model}'` : ''} to kill a worker of`)
  const killed = s.killWorker(mode)
  ctx.log(`test hook: kill-worker (${mode}) on ${s.model} v${s.version}: ${killed ? 'done' : 'no live worker'}`)
  send(res, 200, JSON.stringify({killed, model: s.model, version: s.version, mode}))
  return 200
}
