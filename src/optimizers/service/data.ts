/** Data an optimiser run uses: the user's eval / calibration files, or seeded synthetic inputs. */
import {loadDataset, type Dataset} from '../../data/dataset.js'
import {TfsoptError} from '../../errors.js'
import {fixedBatch, type TensorInfo} from '../../models/dtypes.js'

/**
 * Deterministic uniform [0, 1) inputs of the model's shape when the user gave no data; with a fixed first
 * dimension, a whole number of the model's batches.
 */
export function syntheticDataset(inputs: TensorInfo[], samples = 32, seed = 1): Dataset {
  const fixed = fixedBatch(inputs) ?? 1
  const count = Math.ceil(samples / fixed) * fixed
  let s = seed >>> 0
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296
  const out: Dataset['inputs'] = {}
  for (const info of inputs) {
    const inner = (info.shape ?? []).slice(1)
    if (inner.some((d) => typeof d !== 'number'))
      throw new TfsoptError(
        'E_USAGE',
        `input ${info.name} has a free dimension besides the batch (${JSON.stringify(info.shape)}); give --eval-data or --calibration-data with real inputs`,
      )
    if (info.dtype !== 'float32')
      throw new TfsoptError('E_USAGE', `input ${info.name} is ${info.dtype}; synthetic data is only made for float32 inputs, give --eval-data`)
    const per = (inner as number[]).reduce((a, b) => a * b, 1)
    const data = new Float32Array(per * count)
    for (let i = 0; i < data.length; i++) data[i] = rnd()
    out[info.name] = {dtype: 'float32', dims: [count, ...(inner as number[])], data}
  }
  return {source: 'synthetic uniform[0,1) inputs', format: 'jsonl', count, inputs: out}
}

export function loadOptional(path: string | undefined, what: string): Dataset | undefined {
  if (!path) return undefined
  const ds = loadDataset(path)
  if (ds.count === 0) throw new TfsoptError('E_DATA', `${what} ${path} holds no samples`)
  return ds
}

/** The first `n` samples of a dataset (calibration uses a subset). */
export function headOf(ds: Dataset, n: number): Dataset {
  if (n >= ds.count) return ds
  const inputs: Dataset['inputs'] = {}
  for (const [k, t] of Object.entries(ds.inputs)) {
    const per = t.data.length / ds.count
    inputs[k] = {dtype: t.dtype, dims: [n, ...t.dims.slice(1)], data: (t.data as Float32Array).slice(0, n * per)}
  }
  return {...ds, count: n, inputs, labels: ds.labels?.slice(0, n)}
}
