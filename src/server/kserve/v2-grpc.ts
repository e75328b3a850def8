/**
 * KServe v2 gRPC (`inference.GRPCInferenceService`) on the server core: liveness/readiness, server and
 * model metadata, and ModelInfer with inputs as `raw_input_contents` (the layout of the REST binary
 * extension) or typed `contents`; outputs always come back as `raw_output_contents`, as Triton does.
 */
import {create} from '@bufbuild/protobuf'
import {CTORS} from '../binary-codec.js'
import {badRequest, TfsoptError} from '../../errors.js'
import type {DType} from '../../models/dtypes.js'
import type {Feeds, Tensor} from '../../runtime/types.js'
import {checkShapes, DEFAULT_SIGNATURE} from '../predict-codec.js'
import type {PredictPath} from '../predict-path.js'
import type {Servable} from '../servable.js'
import type {RequestTrace} from '../access-log.js'
import {
  type InferTensorContents,
  type ModelInferRequest,
  type ModelInferResponse,
  ModelInferResponseSchema,
  ModelInferResponse_InferOutputTensorSchema,
  type ModelMetadataRequest,
  type ModelMetadataResponse,
  ModelMetadataResponseSchema,
  type ModelReadyRequest,
  type ServerMetadataResponse,
  ServerMetadataResponseSchema,
} from './gen/grpc_predict_v2_pb.js'
import {V2_SERVER, v2ModelMetadata, v2Version} from './v2-handler.js'
import {V2_DATATYPE, checkV2Shape, dtypeOfV2, tensorFromV2Bytes, tensorToV2Bytes} from './v2-tensor.js'

export const serverMetadata = (): ServerMetadataResponse => create(ServerMetadataResponseSchema, V2_SERVER)

export function modelReady(path: PredictPath, req: ModelReadyRequest): boolean {
  if (!path.has(req.name)) path.resolve(req.name) // NOT_FOUND with the list of models
  try {
    path.resolve(req.name, v2Version(req.name, req.version))
    return true
  } catch (err) {
    if (err instanceof TfsoptError && (err.status === 404 || err.status === 503)) return false
    throw err
  }
}

export function modelMetadata(path: PredictPath, req: ModelMetadataRequest, onResolved: (s: Servable) => void): ModelMetadataResponse {
  const s = path.resolve(req.name, v2Version(req.name, req.version))
  onResolved(s)
  const m = v2ModelMetadata(path, s)
  const meta = (t: {name: string; datatype: string; shape: number[]}) => ({...t, shape: t.shape.map(BigInt)})
  return create(ModelMetadataResponseSchema, {...m, inputs: m.inputs.map(meta), outputs: m.outputs.map(meta)})
}

/** Typed `contents` → the element values of `dtype` (FP16 has no typed field: it must be raw). */
function contentValues(c: InferTensorContents, dtype: DType, where: string): ArrayLike<number | bigint | boolean | Uint8Array> {
  switch (dtype) {
    case 'bool':
      return c.boolContents
    case 'int8':
    case 'int16':
    case 'int32':
      return c.intContents
    case 'uint8':
    case 'uint16':
    case 'uint32':
      return c.uintContents
    case 'int64':
      return c.int64Contents
    case 'uint64':
      return c.uint64Contents
    case 'float32':
      return c.fp32Contents
    case 'float64':
      return c.fp64Contents
    case 'string':
      return c.bytesContents
    default:
      throw badRequest(`${where}: ${V2_DATATYPE[dtype]} has no typed contents field; send it in raw_input_contents`)
  }
}

const CTOR = CTORS
const RANGE: Partial<Record<DType, [number, number]>> = {int8: [-128, 127], int16: [-32768, 32767], uint8: [0, 255], uint16: [0, 65535]}
const utf8 = new TextDecoder('utf-8')

function tensorFromContents(c: InferTensorContents | undefined, dtype: DType, shape: number[], where: string): Tensor {
  if (!c) throw badRequest(`${where}: has neither contents nor an entry in raw_input_contents`)
  const vals = contentValues(c, dtype, where)
  const n = shape.reduce((a, b) => a * b, 1)
  if (vals.length !== n) throw badRequest(`${where}: contents hold ${vals.length} values but shape [${shape}] needs ${n}`)
  if (dtype === 'string') return {dtype, dims: shape, data: Array.from(vals as Uint8Array[], (b) => utf8.decode(b))}
  const data = new CTOR[dtype]!(n)
  const range = RANGE[dtype]
  for (let i = 0; i < n; i++) {
    const v = vals[i] as number | bigint | boolean
    if (range && ((v as number) < range[0] || (v as number) > range[1])) throw badRequest(`${where}: value ${v} is out of range for ${V2_DATATYPE[dtype]}`)
    ;(data as unknown as (number | bigint)[])[i] = typeof v === 'boolean' ? (v ? 1 : 0) : v
  }
  return {dtype, dims: shape, data}
}

function feedsOf(req: ModelInferRequest, s: Servable): Feeds {
  if (!req.inputs.length) throw badRequest('inputs is empty; give every input of the model')
  const raw = req.rawInputContents
  if (raw.length && raw.length !== req.inputs.length)
    throw badRequest(`raw_input_contents has ${raw.length} entries but there are ${req.inputs.length} inputs; give one per input, in order`)
  const feeds: Feeds = {}
  req.inputs.forEach((inp, i) => {
    const where = `input '${inp.name}'`
    const info = s.info.inputs.find((x) => x.name === inp.name)
    if (!info) throw badRequest(`unknown input '${inp.name}'; this model's inputs are ${s.info.inputs.map((x) => `'${x.name}'`).join(', ')}`)
    if (Object.hasOwn(feeds, info.name)) throw badRequest(`input '${info.name}' is given twice`)
    const dtype = dtypeOfV2(inp.datatype, where)
    if (info.dtype !== 'unknown' && dtype !== info.dtype) throw badRequest(`${where} must be ${V2_DATATYPE[info.dtype] ?? info.dtype}, got ${inp.datatype}`)
    const shape = checkV2Shape(
      inp.shape.map((d) => Number(d)),
      where,
    )
    if (raw.length && inp.contents) throw badRequest(`${where}: has contents although raw_input_contents is used; use one or the other`)
    feeds[info.name] = raw.length ? tensorFromV2Bytes(raw[i]!, dtype, shape, where) : tensorFromContents(inp.contents, dtype, shape, where)
  })
  checkShapes(feeds, s.info.inputs)
  return feeds
}

export async function modelInfer(
  path: PredictPath,
  req: ModelInferRequest,
  onResolved: (s: Servable) => void,
  trace?: RequestTrace,
): Promise<ModelInferResponse> {
  const s = await path.acquire(req.modelName, v2Version(req.modelName, req.modelVersion))
  onResolved(s)
  s.checkCapacity()
  for (const o of req.outputs)
    if (!s.outputOrder.includes(o.name))
      throw badRequest(`unknown output '${o.name}'; this model's outputs are ${s.outputOrder.map((x) => `'${x}'`).join(', ')}`)
  const outputs = await path.predict(s, feedsOf(req, s), DEFAULT_SIGNATURE, trace)
  const names = req.outputs.length ? req.outputs.map((o) => o.name) : s.outputOrder
  const res = create(ModelInferResponseSchema, {modelName: s.model, modelVersion: String(s.version), id: req.id})
  for (const name of names) {
    const t = outputs[name]
    if (!t) continue
    const datatype = V2_DATATYPE[t.dtype]
    if (!datatype) throw badRequest(`output '${name}' is ${t.dtype}, which the v2 protocol cannot carry; use the TF Serving API`)
    res.outputs.push(create(ModelInferResponse_InferOutputTensorSchema, {name, datatype, shape: t.dims.map(BigInt)}))
    res.rawOutputContents.push(tensorToV2Bytes(t))
  }
  return res
}
