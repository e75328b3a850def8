/**
 * What the HTTP load generators (closed loop: autocannon; open loop: node:http) send: one path, and per
 * request a body with its headers. TF Serving REST bodies come fresh from the BodySource each time (its
 * repeat-ratio control needs that); the other protocols' bodies come from a pool converted up front
 * (protocol-requests.ts).
 */
import type {BodySource} from './body-source.js'

export interface HttpRequest {
  body: string | Buffer
  headers: Record<string, string>
}

export interface HttpRequests {
  path: string
  /** Inferences one request carries (its batch). */
  clientBatch: number
  next(): HttpRequest
}

const JSON_HEADERS = {'content-type': 'application/json'}

/** TF Serving REST `:predict` with the BodySource's JSON bodies. */
export function tfsRestRequests(model: string, bodies: BodySource): HttpRequests {
  return {
    path: `/v1/models/${encodeURIComponent(model)}:predict`,
    clientBatch: bodies.clientBatch,
    next: () => ({body: bodies.next(), headers: JSON_HEADERS}),
  }
}
