/** Inputs made up from a model's signature, for runs whose values do not matter. */
import type {TensorInfo} from '../models/dtypes.js'
import type {Feeds, Tensor} from './types.js'

/** Zeros shaped like the model's inputs (`freeDim` where a dimension is free): warm-up and probe runs. */
export function syntheticFeeds(inputs: TensorInfo[], freeDim = 1): Feeds {
  const feeds: Feeds = {}
  for (const i of inputs) {
    const dims = (i.shape ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : freeDim))
    const n = dims.reduce((a, b) => a * b, 1)
    const data: Tensor['data'] =
      i.dtype === 'string'
        ? new Array<string>(n).fill('')
        : i.dtype === 'int64'
          ? new BigInt64Array(n)
          : i.dtype === 'uint64'
            ? new BigUint64Array(n)
            : i.dtype === 'float64'
              ? new Float64Array(n)
              : i.dtype === 'int32'
                ? new Int32Array(n)
                : i.dtype === 'uint8' || i.dtype === 'bool'
                  ? new Uint8Array(n)
                  : i.dtype === 'int8'
                    ? new Int8Array(n)
                    : i.dtype === 'int16'
                      ? new Int16Array(n)
                      : i.dtype === 'uint16' || i.dtype === 'float16'
                        ? new Uint16Array(n)
                        : i.dtype === 'uint32'
                          ? new Uint32Array(n)
                          : new Float32Array(n)
    feeds[i.name] = {dtype: i.dtype, dims, data}
  }
  return feeds
}
