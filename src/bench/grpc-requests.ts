/**
 * PredictRequest bytes for the gRPC load generator: inputs as `tensor_content` (what fast TF Serving
 * clients send) or in the typed fields, serialised once with the generated codecs.
 */
import {create, toBinary} from '@bufbuild/protobuf'
import type {Feeds} from '../runtime/types.js'
import {PredictRequestSchema} from '../server/grpc/gen/tensorflow_serving/apis/predict_pb.js'
import {tensorToProto} from '../server/grpc/tensor-proto.js'

export function predictRequestBytes(model: string, feeds: Feeds, opts: {tensorContent: boolean; version?: number; signature?: string}): Uint8Array {
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, tensorToProto(t, {tensorContent: opts.tensorContent})]))
  const versionChoice = opts.version === undefined ? undefined : ({case: 'version', value: {value: BigInt(opts.version)}} as const)
  return toBinary(PredictRequestSchema, create(PredictRequestSchema, {modelSpec: {name: model, signatureName: opts.signature ?? '', versionChoice}, inputs}))
}
