// Pruning on the MNIST MLP, and the accuracy-aware fallback holding a budget.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {pruneModel} from '../../src/optimizers/service/prune.js'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {readModel} from '../../src/models/onnx/proto.js'
import {tensorToFloat32, tensorDims} from '../../src/models/onnx/tensor.js'
import {tmp, MLP, EVAL} from './helpers.js'

const dir = tmp()

test('structured 30% removes hidden neurons: smaller weights and file, accuracy drop reported', async () => {
  const out = join(dir, 'mlp-s30.onnx')
  const r = await pruneModel({input: MLP, out, sparsity: 0.3, method: 'structured', scope: 'layer', evalData: EVAL, latencyBatches: [32]})
  assert.ok(r.size.ratio < 0.75, `size ratio ${r.size.ratio}`)
  const dims = readModel(out).graph!.initializer!.map((t) => tensorDims(t))
  assert.ok(dims.some((d) => d.join() === '784,90'), JSON.stringify(dims))
  assert.ok(dims.some((d) => d.join() === '90,10'), JSON.stringify(dims))
  assert.equal(r.layers[0]!.sparsity, 38 / 128)
  assert.equal(typeof r.measurement.accuracy!.drop, 'number')
  assert.match(r.verdict, /structured pruning changed the layer shapes/)
})

test('magnitude 50% per layer zeroes half of each weight; 2:4 keeps 2 of every 4 inputs', async () => {
  const m = await pruneModel({input: MLP, out: join(dir, 'mag.onnx'), sparsity: 0.5, method: 'magnitude', scope: 'layer', latencyBatches: [1]})
  for (const l of m.layers) assert.ok(Math.abs(l.sparsity - 0.5) < 0.01, `${l.name} ${l.sparsity}`)
  assert.ok(m.size.gzipRatio < 0.8)
  assert.equal(m.size.ratio > 0.95, true) // same shapes: not smaller raw
  const n = await pruneModel({input: MLP, out: join(dir, 'nm.onnx'), sparsity: 0.5, method: 'n:m', scope: 'layer', pattern: '2:4', latencyBatches: [1]})
  const model = readModel(join(dir, 'nm.onnx'))
  const w = model.graph!.initializer!.find((t) => tensorDims(t).join() === '784,128')!
  const v = tensorToFloat32(w)
  for (let col = 0; col < 128; col += 17) for (let g = 0; g < 784; g += 4) {
    let nz = 0
    for (let k = g; k < g + 4; k++) if (v[k * 128 + col] !== 0) nz++
    assert.ok(nz <= 2, `column ${col} group ${g} keeps ${nz}`)
  }
  assert.ok(n.layers.every((l) => l.sparsity >= 0.5 - 1e-9))
})

test('accuracy-aware: a harmful calibration is rescued by falling nodes back until the budget holds', async () => {
  const out = join(dir, 'aa.onnx')
  const r = await quantizeModel({input: MLP, out, mode: 'static', calibrationData: EVAL, calibrationMethod: 'percentile', percentile: 80, evalData: EVAL, maxAccuracyDrop: 0.5, latencyBatches: [1]})
  const aa = r.accuracyAware!
  assert.ok(aa.trials[0]!.drop > 0.005, `first trial drop ${aa.trials[0]!.drop}`)
  assert.equal(aa.met, true)
  assert.ok(aa.keptFloat.length > 0 && aa.keptFloat.length < aa.ranking.length, `kept ${aa.keptFloat.length} of ${aa.ranking.length}`)
  assert.ok(r.measurement.accuracy!.drop <= 0.005)
  assert.deepEqual(aa.ranking.map((x) => x.mse), [...aa.ranking.map((x) => x.mse)].sort((a, b) => b - a))
  assert.deepEqual(new Set(r.skipped.filter((s) => /accuracy-aware/.test(s.reason)).map((s) => s.node)), new Set(aa.keptFloat))
})
