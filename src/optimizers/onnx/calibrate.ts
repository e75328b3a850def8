/** Activation ranges for static quantisation: MinMax, Percentile or Entropy over calibration batches. */
import type {ModelProto} from '../../models/onnx/proto.js'
import type {Feeds} from '../../runtime/types.js'
import {addToHistogram, emptyHistogram, entropyRange, percentileRange, type AbsHistogram, type CalibrationMethod} from '../quant/calibration.js'
import {probeTensors} from './probe.js'
import type {Ranges} from './static-qdq.js'

export interface CalibrationOptions {method: CalibrationMethod; percentile: number; threads?: number}

export async function calibrate(model: ModelProto, tensors: string[], batches: Feeds[], opts: CalibrationOptions): Promise<Ranges> {
  const mm = new Map<string, [number, number]>()
  const hist = new Map<string, AbsHistogram>()
  await probeTensors(model, batches, tensors, (name, dtype, data) => {
    if (dtype !== 'float32' || !data.length) return
    if (opts.method === 'minmax') {
      let [lo, hi] = mm.get(name) ?? [Infinity, -Infinity]
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!
        if (v < lo) lo = v
        if (v > hi) hi = v
      }
      mm.set(name, [lo, hi])
    } else hist.set(name, addToHistogram(hist.get(name) ?? emptyHistogram(2048), data))
  }, opts.threads)
  if (opts.method === 'minmax') return mm
  const ranges: Ranges = new Map()
  for (const [name, h] of hist) ranges.set(name, opts.method === 'percentile' ? percentileRange(h, opts.percentile) : entropyRange(h))
  return ranges
}
