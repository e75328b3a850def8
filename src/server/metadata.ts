/** TF Serving's GetModelMetadata answer: the signature_def with DT_* dtypes and -1 for free dimensions. */
import {TF_DTYPE_NAME, shapeForServing, type TensorInfo} from '../models/dtypes.js'
import {DEFAULT_SIGNATURE} from './predict-codec.js'

function tensorShape(info: TensorInfo): unknown {
  const shape = shapeForServing(info.shape)
  if (shape === null) return {dim: [], unknown_rank: true}
  return {dim: shape.map((d) => ({size: String(d), name: ''})), unknown_rank: false}
}

function tensorMap(infos: TensorInfo[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const i of infos) out[i.name] = {dtype: TF_DTYPE_NAME[i.dtype], tensor_shape: tensorShape(i), name: i.name}
  return out
}

export function modelMetadata(name: string, version: number, inputs: TensorInfo[], outputs: TensorInfo[]): unknown {
  return {
    model_spec: {name, signature_name: '', version: String(version)},
    metadata: {
      signature_def: {
        signature_def: {
          [DEFAULT_SIGNATURE]: {inputs: tensorMap(inputs), outputs: tensorMap(outputs), method_name: 'tensorflow/serving/predict'},
        },
      },
    },
  }
}
