/**
 * Request bodies in each wire protocol the bench drives, built from the same tensors: the bench's TF
 * Serving JSON bodies are decoded once (with the server's own decoder, against the model's signature)
 * and re-encoded as a KServe v2 JSON body, a v2 binary-extension body, a TF Serving PredictRequest or a
 * v2 ModelInferRequest. Built up front, so the load generator spends nothing per request on encoding.
 */
import {create, toBinary} from '@bufbuild/protobuf'
import {usageError} from '../errors.js'
import type {TensorInfo} from '../models/dtypes.js'
import type {Feeds} from '../runtime/types.js'
import {parseJsonBody} from '../server/json-body.js'
import {ModelInferRequestSchema} from '../server/kserve/gen/grpc_predict_v2_pb.js'
import {HEADER_LENGTH} from '../server/kserve/v2-infer.js'
import {V2_DATATYPE, tensorToV2Bytes, tensorToV2Json} from '../server/kserve/v2-tensor.js'
import {decodePredict} from '../server/predict-codec.js'
import {predictRequestBytes} from './grpc-requests.js'

export const PROTOCOLS = ['tfs-rest', 'tfs-grpc', 'v2-rest', 'v2-rest-binary', 'v2-grpc'] as const
export type Protocol = (typeof PROTOCOLS)[number]

/** Other names people use for the same protocols. */
const ALIASES: Record<string, Protocol> = {
  rest: 'tfs-rest',
  grpc: 'tfs-grpc',
  'kserve-v2': 'v2-rest',
  'kserve-v2-binary': 'v2-rest-binary',
  'kserve-v2-grpc': 'v2-grpc',
}

export function parseProtocol(s: string): Protocol {
  const p = (PROTOCOLS as readonly string[]).includes(s) ? (s as Protocol) : ALIASES[s]
  if (!p) throw usageError(`--protocol must be one of ${PROTOCOLS.join(', ')} (or ${Object.keys(ALIASES).join(', ')}), got "${s}"`)
  return p
}

export const isGrpc = (p: Protocol) => p === 'tfs-grpc' || p === 'v2-grpc'

/** The tensors of one TF Serving predict body. */
export function feedsFromRestBody(body: string, inputs: TensorInfo[]): Feeds {
  return decodePredict(parseJsonBody(body), inputs).feeds
}

export interface HttpRequestShape {
  path: string
  headers: Record<string, string>
  body: Buffer
}

export function v2JsonBody(feeds: Feeds): Buffer {
  const inputs = Object.entries(feeds).map(
    ([name, t]) => `{"name":${JSON.stringify(name)},"shape":[${t.dims}],"datatype":"${V2_DATATYPE[t.dtype]}","data":${tensorToV2Json(t)}}`,
  )
  return Buffer.from(`{"inputs":[${inputs.join(',')}]}`)
}

/** A binary-extension body asking for binary outputs (what perf_analyzer sends by default). */
export function v2BinaryBody(feeds: Feeds): {body: Buffer; headers: Record<string, string>} {
  const parts = Object.entries(feeds).map(([name, t]) => ({name, t, bytes: tensorToV2Bytes(t)}))
  const header = Buffer.from(
    JSON.stringify({
      inputs: parts.map((p) => ({name: p.name, shape: p.t.dims, datatype: V2_DATATYPE[p.t.dtype], parameters: {binary_data_size: p.bytes.length}})),
      parameters: {binary_data_output: true},
    }),
  )
  return {
    body: Buffer.concat([header, ...parts.map((p) => p.bytes)]),
    headers: {'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.length)},
  }
}

/** A ModelInferRequest with every input in raw_input_contents. */
export function v2GrpcRequestBytes(model: string, feeds: Feeds): Uint8Array {
  const entries = Object.entries(feeds)
  return toBinary(
    ModelInferRequestSchema,
    create(ModelInferRequestSchema, {
      modelName: model,
      inputs: entries.map(([name, t]) => ({name, datatype: V2_DATATYPE[t.dtype], shape: t.dims.map(BigInt)})),
      rawInputContents: entries.map(([, t]) => tensorToV2Bytes(t)),
    }),
  )
}

/** The HTTP request for a REST protocol (TF Serving JSON bodies are sent as the bench made them). */
export function httpRequest(protocol: Exclude<Protocol, 'tfs-grpc' | 'v2-grpc'>, model: string, restBody: string, inputs: TensorInfo[]): HttpRequestShape {
  const m = encodeURIComponent(model)
  if (protocol === 'tfs-rest') return {path: `/v1/models/${m}:predict`, headers: {'content-type': 'application/json'}, body: Buffer.from(restBody)}
  const feeds = feedsFromRestBody(restBody, inputs)
  if (protocol === 'v2-rest') return {path: `/v2/models/${m}/infer`, headers: {'content-type': 'application/json'}, body: v2JsonBody(feeds)}
  const b = v2BinaryBody(feeds)
  return {path: `/v2/models/${m}/infer`, headers: b.headers, body: b.body}
}

/** The serialised gRPC request for a gRPC protocol. */
export function grpcRequest(protocol: 'tfs-grpc' | 'v2-grpc', model: string, restBody: string, inputs: TensorInfo[]): Uint8Array {
  const feeds = feedsFromRestBody(restBody, inputs)
  return protocol === 'tfs-grpc' ? predictRequestBytes(model, feeds, {tensorContent: true}) : v2GrpcRequestBytes(model, feeds)
}
