/**
 * TF Serving's gRPC methods on the server core: PredictionService/Predict and GetModelMetadata, and
 * ModelService/GetModelStatus. Each takes the decoded request message and returns the response
 * message (or throws a TfsoptError, which the front turns into a gRPC status).
 */
import {create} from '@bufbuild/protobuf'
import {anyPack} from '@bufbuild/protobuf/wkt'
import {badRequest, notFound} from '../../errors.js'
import {shapeForServing, type DType, type TensorInfo as ModelTensorInfo} from '../../models/dtypes.js'
import type {Feeds, Tensor} from '../../runtime/types.js'
import {checkShapes, checkSignature, DEFAULT_SIGNATURE} from '../predict-codec.js'
import type {PredictPath} from '../predict-path.js'
import type {Servable} from '../servable.js'
import type {RequestTrace} from '../access-log.js'
import {DataType} from './gen/tensorflow/core/framework/types_pb.js'
import {type TensorInfo, TensorInfoSchema} from './gen/tensorflow/core/protobuf/meta_graph_pb.js'
import {Code as TfCode} from './gen/tensorflow/core/protobuf/error_codes_pb.js'
import {
  type GetModelMetadataRequest,
  type GetModelMetadataResponse,
  GetModelMetadataResponseSchema,
  SignatureDefMapSchema,
} from './gen/tensorflow_serving/apis/get_model_metadata_pb.js'
import {
  type GetModelStatusRequest,
  type GetModelStatusResponse,
  GetModelStatusResponseSchema,
  ModelVersionStatus_State,
} from './gen/tensorflow_serving/apis/get_model_status_pb.js'
import {type ModelSpec, ModelSpecSchema} from './gen/tensorflow_serving/apis/model_pb.js'
import {type PredictRequest, type PredictResponse, PredictResponseSchema} from './gen/tensorflow_serving/apis/predict_pb.js'
import {TF_OF_DTYPE, tensorFromProto, tensorToProto} from './tensor-proto.js'

export interface TfsServiceOptions {
  /** The most bytes one decoded input tensor may take. */
  maxTensorBytes: number
  /** Outputs as tensor_content rather than the typed *_val fields. */
  tensorContent: boolean
}

/** Where a request points: model name, and a version or label (neither: the latest). */
export interface Target {
  model: string
  version?: number
  label?: string
}

export function targetOf(spec: ModelSpec | undefined): Target {
  if (!spec?.name) throw badRequest('model_spec.name is required: name the model to use')
  const c = spec.versionChoice
  if (c.case === 'version') {
    const v = c.value.value
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw notFound(`version ${v} of model '${spec.name}' is not available`)
    return {model: spec.name, version: Number(v)}
  }
  if (c.case === 'versionLabel') return {model: spec.name, label: c.value}
  return {model: spec.name}
}

const effectiveSpec = (s: Servable, signature: string): ModelSpec =>
  create(ModelSpecSchema, {name: s.model, versionChoice: {case: 'version', value: {value: BigInt(s.version)}}, signatureName: signature})

const names = (infos: ModelTensorInfo[]) => infos.map((i) => `'${i.name}'`).join(', ')

/** PredictRequest.inputs → feeds, checked against the model (names, dtypes, shapes). */
export function feedsOf(req: PredictRequest, s: Servable, opts: TfsServiceOptions): Feeds {
  const feeds: Feeds = {}
  for (const [name, p] of Object.entries(req.inputs)) {
    if (!s.info.inputs.some((i) => i.name === name)) throw badRequest(`unknown input '${name}'; this model's inputs are ${names(s.info.inputs)}`)
    feeds[name] = tensorFromProto(p, `input '${name}'`, {maxBytes: opts.maxTensorBytes})
  }
  checkShapes(feeds, s.info.inputs)
  return feeds
}

/** The outputs output_filter asks for (all of them, in the model's order, when it is empty). */
export function filterOutputs(filter: string[], s: Servable): string[] {
  if (!filter.length) return s.outputOrder
  const seen = new Set<string>()
  for (const name of filter) {
    if (!s.outputOrder.includes(name))
      throw badRequest(`output_filter names '${name}', which is not an output of this model; outputs: ${names(s.info.outputs)}`)
    if (seen.has(name)) throw badRequest(`output_filter names '${name}' twice`)
    seen.add(name)
  }
  return filter
}

export async function predict(
  path: PredictPath,
  req: PredictRequest,
  opts: TfsServiceOptions,
  onResolved: (s: Servable) => void,
  trace?: RequestTrace,
): Promise<PredictResponse> {
  const t = targetOf(req.modelSpec)
  const s = await path.acquire(t.model, t.version, t.label)
  onResolved(s)
  s.checkCapacity()
  const signature = checkSignature(req.modelSpec?.signatureName)
  const wanted = filterOutputs(req.outputFilter, s)
  const outputs = await path.predict(s, feedsOf(req, s, opts), signature, trace)
  const res = create(PredictResponseSchema, {modelSpec: effectiveSpec(s, signature)})
  for (const name of wanted) {
    const out: Tensor | undefined = outputs[name]
    if (out) res.outputs[name] = tensorToProto(out, {tensorContent: opts.tensorContent})
  }
  return res
}

/** TensorFlow's numbers for the dtypes a model may declare beyond those the server carries. */
const TF_EXTRA: Partial<Record<DType, DataType>> = {bfloat16: DataType.DT_BFLOAT16, complex64: DataType.DT_COMPLEX64, complex128: DataType.DT_COMPLEX128}

function tensorInfo(i: ModelTensorInfo): TensorInfo {
  const shape = shapeForServing(i.shape)
  return create(TensorInfoSchema, {
    encoding: {case: 'name', value: i.name},
    dtype: TF_OF_DTYPE[i.dtype] ?? TF_EXTRA[i.dtype] ?? DataType.DT_INVALID,
    tensorShape: shape === null ? {unknownRank: true} : {dim: shape.map((d) => ({size: BigInt(d), name: ''}))},
  })
}

export function getModelMetadata(path: PredictPath, req: GetModelMetadataRequest, onResolved: (s: Servable) => void): GetModelMetadataResponse {
  const t = targetOf(req.modelSpec)
  if (!req.metadataField.length) throw badRequest('metadata_field is empty; ask for "signature_def"')
  for (const f of req.metadataField)
    if (f !== 'signature_def') throw badRequest(`metadata field "${f}" is not supported; the one supported field is "signature_def"`)
  const s = path.resolve(t.model, t.version, t.label)
  onResolved(s)
  const map = create(SignatureDefMapSchema, {
    signatureDef: {
      [DEFAULT_SIGNATURE]: {
        inputs: Object.fromEntries(s.info.inputs.map((i) => [i.name, tensorInfo(i)])),
        outputs: Object.fromEntries(s.info.outputs.map((i) => [i.name, tensorInfo(i)])),
        methodName: 'tensorflow/serving/predict',
      },
    },
  })
  return create(GetModelMetadataResponseSchema, {
    modelSpec: effectiveSpec(s, ''),
    metadata: {signature_def: anyPack(SignatureDefMapSchema, map)},
  })
}

const STATE: Record<string, ModelVersionStatus_State> = {
  START: ModelVersionStatus_State.START,
  LOADING: ModelVersionStatus_State.LOADING,
  AVAILABLE: ModelVersionStatus_State.AVAILABLE,
  UNLOADING: ModelVersionStatus_State.UNLOADING,
  END: ModelVersionStatus_State.END,
}

export function getModelStatus(path: PredictPath, req: GetModelStatusRequest): GetModelStatusResponse {
  const t = targetOf(req.modelSpec)
  const st = path.status(t.model, t.version, t.label)
  return create(GetModelStatusResponseSchema, {
    modelVersionStatus: st.model_version_status.map((v) => ({
      version: BigInt(v.version),
      state: STATE[v.state] ?? ModelVersionStatus_State.UNKNOWN,
      status: {errorCode: v.status.error_code === 'OK' ? TfCode.OK : TfCode.UNKNOWN, errorMessage: v.status.error_message},
    })),
  })
}
