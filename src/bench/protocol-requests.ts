/**
 * Requests for one point in the protocol it measures. TF Serving REST sends the BodySource's JSON
 * bodies as they come (fresh or repeated per --repeat-ratio). Every other protocol needs the same
 * tensors re-encoded (v2 JSON, v2 binary, PredictRequest, ModelInferRequest); doing that per request
 * would spend the generator's CPU, which on a small machine is the server's CPU too. So a pool of
 * bodies is drawn from the BodySource once (repeats included, in the ratio asked for), converted, and
 * sent in turn. The pool is the unit of uniqueness: with a server cache on, a second pass through it
 * is all hits, so the engine warns when a cache meets a pooled protocol.
 */
import {dataError} from '../errors.js'
import {type DType, TF_DTYPE_NAME, type TensorInfo} from '../models/dtypes.js'
import type {BodySource} from './body-source.js'
import {PREDICT_PATH, V2_INFER_PATH, type GrpcRequestSource} from './grpc-load.js'
import {type HttpRequests, tfsRestRequests} from './http-requests.js'
import {grpcRequest, httpRequest, isGrpc, type Protocol} from './protocol-bodies.js'
import type {SignatureInput} from './signature.js'

/** Bodies converted per pool: enough to spread over batches and workers, bounded in memory. */
export const POOL_MAX = 256
const POOL_BYTES = 64 << 20

export type ProtocolRequests = {kind: 'http'; http: HttpRequests; pool?: number} | {kind: 'grpc'; grpc: GrpcRequestSource; method: string; pool: number}

const DTYPE_OF_TF = Object.fromEntries(Object.entries(TF_DTYPE_NAME).map(([d, tf]) => [tf, d])) as Record<string, DType>

/** The model's inputs as the server's decoder wants them, from the signature the bench read over REST. */
export function inputsFromSignature(sig: SignatureInput[]): TensorInfo[] {
  return sig.map((s) => {
    const dtype = DTYPE_OF_TF[s.dtype]
    if (!dtype) throw dataError(`input ${s.name} has dtype ${s.dtype}, which the bench cannot re-encode for another protocol`)
    return {name: s.name, dtype, shape: s.dims.map((d, i) => (d >= 0 ? d : `d${i}`))}
  })
}

/** Draws bodies until the pool is full or its byte budget is spent (at least 16, for batches to form). */
function drawPool<T extends {byteLength: number}>(bodies: BodySource, convert: (rest: string) => T): T[] {
  const pool: T[] = []
  let bytes = 0
  while (pool.length < POOL_MAX && (pool.length < 16 || bytes < POOL_BYTES)) {
    const r = convert(bodies.next())
    pool.push(r)
    bytes += r.byteLength
  }
  return pool
}

export function requestsFor(protocol: Protocol, model: string, bodies: BodySource, sig: SignatureInput[]): ProtocolRequests {
  if (protocol === 'tfs-rest') return {kind: 'http', http: tfsRestRequests(model, bodies)}
  if (!sig.length) throw dataError(`--protocol ${protocol} needs the model's input signature (its REST metadata gave none) to encode requests`)
  const inputs = inputsFromSignature(sig)
  let i = 0
  if (isGrpc(protocol)) {
    const pool = drawPool(bodies, (rest) => grpcRequest(protocol as 'tfs-grpc' | 'v2-grpc', model, rest, inputs))
    return {
      kind: 'grpc',
      method: protocol === 'tfs-grpc' ? PREDICT_PATH : V2_INFER_PATH,
      pool: pool.length,
      grpc: {clientBatch: bodies.clientBatch, next: () => pool[i++ % pool.length]!},
    }
  }
  const pool = drawPool(bodies, (rest) => {
    const r = httpRequest(protocol as 'v2-rest' | 'v2-rest-binary', model, rest, inputs)
    return {...r, byteLength: r.body.length}
  })
  return {
    kind: 'http',
    pool: pool.length,
    http: {path: pool[0]!.path, clientBatch: bodies.clientBatch, next: () => pool[i++ % pool.length]!},
  }
}
