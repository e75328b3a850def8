/**
 * Where an optimised model departs from the original: runs both on the first sample of a data file with
 * every intermediate tensor exposed, and prints, in graph order, each tensor both models have with its
 * relative L2 error ‖a − b‖/‖a‖ (float16 tensors decoded). Tensors renamed by the transform (e.g. a
 * removed Relu's input) are skipped.
 * Usage: npx tsx benchmarks/layer-error.ts ORIGINAL.onnx OPTIMISED.onnx DATA [min-error]
 */
import {readModel} from '../src/models/onnx/proto.js'
import {probeTensors} from '../src/optimizers/onnx/probe.js'
import {loadDataset, datasetFeeds} from '../src/data/dataset.js'
import {float16BitsToFloat32Scalar} from '../src/models/onnx/tensor.js'
import {open} from '../src/optimizers/service/measure.js'

const [a, b, data, minArg = '0'] = process.argv.slice(2)
if (!a || !b || !data) throw new Error('usage: tsx benchmarks/layer-error.ts ORIGINAL.onnx OPTIMISED.onnx DATA [min-error]')
const ma = readModel(a)
const session = await open(a, 1)
const feeds = datasetFeeds(loadDataset(data), session.inputs, 0, 1)
await session.dispose()
const grab = async (path: string) => {
  const out = new Map<string, Float64Array>()
  await probeTensors(readModel(path), [feeds], 'all', (name, dtype, values) => {
    if (dtype === 'float32') out.set(name, Float64Array.from(values))
    else if (dtype === 'float16')
      out.set(
        name,
        Float64Array.from(values, (h) => float16BitsToFloat32Scalar(h)),
      )
  })
  return out
}
const [ra, rb] = [await grab(a), await grab(b)]
for (const n of ma.graph!.node ?? []) {
  for (const t of n.output ?? []) {
    const x = ra.get(t),
      y = rb.get(t)
    if (!x || !y || x.length !== y.length) continue
    let num = 0,
      den = 0
    for (let i = 0; i < x.length; i++) {
      num += (x[i]! - y[i]!) ** 2
      den += x[i]! ** 2
    }
    const rel = Math.sqrt(num / (den || 1))
    if (rel >= Number(minArg)) console.log(`${n.opType} ${t}: ${rel.toFixed(4)}`)
  }
}
