/**
 * Diagnoses static-quantisation calibration: for one model, the float32 accuracy, the accuracy of QDQ
 * int8 (per-channel) under MinMax / Percentile 99.999 / Entropy (128 samples of the eval set), every
 * calibrated tensor's range under each method, and the accuracy when one tensor at a time takes its
 * MinMax range instead of its Entropy one (which tensor an Entropy range hurts).
 * Usage: npx tsx benchmarks/optimize-calibration-ranges.ts [model=fixtures/models/mnist-cnn.onnx]
 */
import {readModel, encodeModel} from '../src/models/onnx/proto.js'
import {writeFileSync} from 'node:fs'
import {loadDataset, datasetFeeds} from '../src/data/dataset.js'
import {prepareForStatic, quantizeStatic, tensorsToCalibrate} from '../src/optimizers/onnx/static-qdq.js'
import {calibrate} from '../src/optimizers/onnx/calibrate.js'
import {open} from '../src/optimizers/service/measure.js'
import {runAll} from '../src/optimizers/evaluate/run.js'
import {accuracy, argmaxRows} from '../src/optimizers/evaluate/metrics.js'
const path = process.argv[2] ?? 'fixtures/models/mnist-cnn.onnx'
const ds = loadDataset('fixtures/data/mnist-eval.json')
const orig = await open(path, 1)
const prepared = prepareForStatic(readModel(path))
const q = {filter: {}, perChannel: true, reduceRange: false, weightType: 'int8' as const, activationType: 'int8' as const}
const tensors = tensorsToCalibrate(prepared, q as never)
const batches = []
for (let s = 0; s < 128; s += 16) batches.push(datasetFeeds(ds, orig.inputs, s, 16))
const acc = async (p: string) => {
  const s = await open(p, 1)
  const o = await runAll(s, ds)
  await s.dispose()
  return accuracy(argmaxRows(o.data[o.names[0]!]!, o.rows), ds.labels!)
}
console.log('fp32', ((await acc(path)) * 100).toFixed(2))
const all: Record<string, Map<string, [number, number]>> = {}
for (const method of ['minmax', 'percentile', 'entropy'] as const) {
  const r = await calibrate(prepared, tensors, batches, {method, percentile: 99.999})
  all[method] = r
  const m = quantizeStatic(prepared, r, q as never).model
  writeFileSync(`/tmp/dbg-${method}.onnx`, encodeModel(m))
  console.log(method, ((await acc(`/tmp/dbg-${method}.onnx`)) * 100).toFixed(2))
}
for (const t of tensors)
  console.log(
    t.padEnd(14),
    ['minmax', 'percentile', 'entropy']
      .map((k) =>
        all[k]!.get(t)
          ?.map((v) => v.toFixed(3))
          .join('..'),
      )
      .join('   '),
  )
// swap one tensor at a time from entropy to minmax
for (const t of tensors) {
  const r = new Map(all.entropy!)
  r.set(t, all.minmax!.get(t)!)
  writeFileSync('/tmp/dbg-swap.onnx', encodeModel(quantizeStatic(prepared, r, q as never).model))
  console.log('entropy but minmax for', t, ((await acc('/tmp/dbg-swap.onnx')) * 100).toFixed(2))
}
await orig.dispose()
