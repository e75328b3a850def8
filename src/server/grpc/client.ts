/**
 * grpc-js clients for TF Serving's PredictionService and ModelService and KServe v2's
 * GRPCInferenceService, built from the generated
 * codecs (the bench's gRPC load generator and the tests use them; so can any TypeScript caller).
 */
import {type ChannelOptions, type Client, credentials, makeGenericClientConstructor, type Metadata, type ServiceError} from '@grpc/grpc-js'
import type {DescService} from '@bufbuild/protobuf'
import type {GetModelMetadataRequest, GetModelMetadataResponse} from './gen/tensorflow_serving/apis/get_model_metadata_pb.js'
import type {GetModelStatusRequest, GetModelStatusResponse} from './gen/tensorflow_serving/apis/get_model_status_pb.js'
import {ModelService} from './gen/tensorflow_serving/apis/model_service_pb.js'
import type {PredictRequest, PredictResponse} from './gen/tensorflow_serving/apis/predict_pb.js'
import {PredictionService} from './gen/tensorflow_serving/apis/prediction_service_pb.js'
import {grpcServiceDefinition} from './service-def.js'
import {
  GRPCInferenceService,
  type ModelInferRequest,
  type ModelInferResponse,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
  type ModelReadyRequest,
  type ModelReadyResponse,
  type ServerLiveRequest,
  type ServerLiveResponse,
  type ServerMetadataRequest,
  type ServerMetadataResponse,
  type ServerReadyRequest,
  type ServerReadyResponse,
} from '../kserve/gen/grpc_predict_v2_pb.js'

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (err: ServiceError | null, res?: Res) => void) => unknown

export type PredictionClient = Client & {
  predict: Unary<PredictRequest, PredictResponse>
  getModelMetadata: Unary<GetModelMetadataRequest, GetModelMetadataResponse>
}
export type V2Client = Client & {
  serverLive: Unary<ServerLiveRequest, ServerLiveResponse>
  serverReady: Unary<ServerReadyRequest, ServerReadyResponse>
  modelReady: Unary<ModelReadyRequest, ModelReadyResponse>
  serverMetadata: Unary<ServerMetadataRequest, ServerMetadataResponse>
  modelMetadata: Unary<ModelMetadataRequest, ModelMetadataResponse>
  modelInfer: Unary<ModelInferRequest, ModelInferResponse>
}
export type ModelClient = Client & {getModelStatus: Unary<GetModelStatusRequest, GetModelStatusResponse>}

/** No receive limit by default: a large output must not be refused by the client's 4 MiB default. */
const DEFAULT_OPTIONS: ChannelOptions = {'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1}

export function clientFor(service: DescService, target: string, options?: ChannelOptions): Client {
  const Ctor = makeGenericClientConstructor(grpcServiceDefinition(service), service.name)
  return new Ctor(target, credentials.createInsecure(), {...DEFAULT_OPTIONS, ...options})
}

export const predictionClient = (target: string, options?: ChannelOptions) => clientFor(PredictionService, target, options) as PredictionClient
export const modelClient = (target: string, options?: ChannelOptions) => clientFor(ModelService, target, options) as ModelClient
export const v2Client = (target: string, options?: ChannelOptions) => clientFor(GRPCInferenceService, target, options) as V2Client

/** Promise form of a unary call. */
export function call<Req, Res>(fn: Unary<Req, Res>, client: Client, req: Req, md: Metadata): Promise<Res> {
  return new Promise((resolve, reject) => fn.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res!))))
}
