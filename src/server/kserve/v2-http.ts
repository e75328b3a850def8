/** KServe v2 REST on node:http: the HTTP front hands /v2 requests here; handleV2 maps them to answers. */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {PredictPath} from '../predict-path.js'
import type {Servable} from '../servable.js'
import type {RequestTrace} from '../access-log.js'
import {handleV2, type V2Route} from './v2-handler.js'

/** Answers one /v2 request; returns the status and the version that answered (for the metrics). */
export async function serveV2(
  r: V2Route,
  req: IncomingMessage,
  res: ServerResponse,
  path: PredictPath,
  readBody: () => Promise<Buffer>,
  trace?: RequestTrace,
): Promise<{status: number; servable?: Servable}> {
  const a = await handleV2(r, {method: req.method ?? 'GET', headers: req.headers, body: readBody, trace}, path)
  const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body
  res.writeHead(a.status, {'content-type': 'application/json', ...a.headers, 'content-length': body.length})
  res.end(body)
  return {status: a.status, servable: a.servable}
}
