/** Activation ranges for static quantisation: MinMax, Percentile or Entropy over calibration batches. */
import type {ModelProto} from '../../models/onnx/proto.js'
import type {Feeds} from '../../runtime/types.js'
import {
  addToHistogram,
  addToSignedHistogram,
  emptyHistogram,
  emptySignedHistogram,
  entropyRange,
  percentileRange,
  type AbsHistogram,
  type CalibrationMethod,
  type SignedHistogram,
} from '../quant/calibration.js'
import {probeTensors} from './probe.js'
import type {Ranges} from './static-qdq.js'

/**
 * Percentile: 2048-bin histogram of |x| (ORT's default). Entropy: histogram of x with `entropyBins`
 * (default 2048, TensorRT's choice; ORT's own default is 128, which leaves a single candidate window,
 * i.e. nearly MinMax — pass extra_options={'num_bins': 2048} to ORT to compare) and 128 quantised bins.
 */
export interface CalibrationOptions {
  method: CalibrationMethod
  percentile: number
  threads?: number
  entropyBins?: number
}

export async function calibrate(model: ModelProto, tensors: string[], batches: Feeds[], opts: CalibrationOptions): Promise<Ranges> {
  const mm = new Map<string, [number, number]>()
  const hist = new Map<string, AbsHistogram>()
  const signed = new Map<string, SignedHistogram>()
  await probeTensors(
    model,
    batches,
    tensors,
    (name, dtype, data) => {
      if (dtype !== 'float32' || !data.length) return
      if (opts.method === 'minmax') {
        let [lo, hi] = mm.get(name) ?? [Infinity, -Infinity]
        for (let i = 0; i < data.length; i++) {
          const v = data[i]!
          if (v < lo) lo = v
          if (v > hi) hi = v
        }
        mm.set(name, [lo, hi])
      } else if (opts.method === 'entropy') signed.set(name, addToSignedHistogram(signed.get(name) ?? emptySignedHistogram(opts.entropyBins ?? 2048), data))
      else hist.set(name, addToHistogram(hist.get(name) ?? emptyHistogram(2048), data))
    },
    opts.threads,
  )
  if (opts.method === 'minmax') return mm
  const ranges: Ranges = new Map()
  for (const [name, h] of hist) ranges.set(name, percentileRange(h, opts.percentile))
  for (const [name, h] of signed) ranges.set(name, entropyRange(h, 128))
  return ranges
}
