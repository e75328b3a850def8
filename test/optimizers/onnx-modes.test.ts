// Every ONNX mode on the real MNIST fixtures (and a self-built Conv model), outputs compared with
// the float32 model by onnxruntime, plus the graph each mode must produce.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {readModel} from '../../src/models/onnx/proto.js'
import {tensorToFloat32, tensorToHost} from '../../src/models/onnx/tensor.js'
import {tmp, writeConvModel, MLP, CNN, EVAL} from './helpers.js'

const ops = (p: string) => new Set(readModel(p).graph!.node!.map((n) => n.opType!))
const dir = tmp()
const common = {evalData: EVAL, latencyBatches: [1]}

test('dynamic int8 on the MNIST MLP: MatMulInteger graph, ≤ 0.27× size, ≤ 0.5 point accuracy loss', async () => {
  const out = join(dir, 'mlp-dyn.onnx')
  const r = await quantizeModel({input: MLP, out, mode: 'dynamic', ...common})
  const o = ops(out)
  assert.ok(o.has('DynamicQuantizeLinear') && o.has('MatMulInteger'), [...o].join(','))
  assert.ok(!o.has('MatMul') && !o.has('Gemm'))
  assert.ok(r.size.ratio <= 0.27, `size ratio ${r.size.ratio}`)
  assert.ok(r.measurement.accuracy!.drop <= 0.005, `drop ${r.measurement.accuracy!.drop}`)
  assert.ok(r.measurement.fidelity.cosineSimilarity > 0.999)
  assert.ok(r.measurement.fidelity.top1Agreement! > 0.99)
  assert.equal(r.measurement.latency[0]!.batch, 1)
  assert.ok(r.measurement.latency[0]!.beforeMs > 0 && r.measurement.latency[0]!.afterMs > 0)
})

test('static QDQ int8 on the MNIST MLP (minmax, per-channel): ≤ 0.27× size, ≤ 0.5 point loss', async () => {
  const out = join(dir, 'mlp-static.onnx')
  const r = await quantizeModel({input: MLP, out, mode: 'static', perChannel: true, calibrationData: EVAL, calibrationSamples: 64, ...common})
  const o = ops(out)
  assert.ok(o.has('QuantizeLinear') && o.has('DequantizeLinear'))
  assert.ok(r.size.ratio <= 0.27, `size ratio ${r.size.ratio}`)
  assert.ok(r.measurement.accuracy!.drop <= 0.005, `drop ${r.measurement.accuracy!.drop}`)
  assert.ok(r.notes.some((n) => /calibrated \d+ activation tensors on 64 samples/.test(n)))
})

test('float16 on the MNIST MLP: ≤ 0.52× size, ≤ 0.1 point loss, float32 I/O kept', async () => {
  const out = join(dir, 'mlp-fp16.onnx')
  const r = await quantizeModel({input: MLP, out, mode: 'float16', ...common})
  const m = readModel(out)
  assert.equal(m.graph!.input![0]!.type!.tensorType!.elemType, 1)
  assert.equal(m.graph!.output![0]!.type!.tensorType!.elemType, 1)
  assert.ok(m.graph!.initializer!.every((t) => t.dataType !== 1), 'no float32 initializer left')
  assert.ok(r.size.ratio <= 0.52, `size ratio ${r.size.ratio}`)
  assert.ok(r.measurement.accuracy!.drop <= 0.001)
  assert.ok(r.measurement.fidelity.maxAbsError < 0.01)
})

test('weight-only int8: DequantizeLinear feeds the float ops, 4× smaller', async () => {
  const out = join(dir, 'mlp-wo.onnx')
  const r = await quantizeModel({input: MLP, out, mode: 'weight-only', ...common})
  const o = ops(out)
  assert.ok(o.has('DequantizeLinear') && !o.has('MatMulInteger'))
  assert.ok(r.size.ratio < 0.27)
  assert.ok(r.measurement.accuracy!.drop <= 0.005)
})

test('dynamic on a Conv model writes ConvInteger; --exclude keeps the Gemm float and says why', async () => {
  const d = tmp()
  const src = writeConvModel(join(d, 'conv.onnx'))
  const out = join(d, 'conv-dyn.onnx')
  const r = await quantizeModel({input: src, out, mode: 'dynamic', exclude: ['fc'], latencyBatches: [1]})
  const o = ops(out)
  assert.ok(o.has('ConvInteger') && o.has('Gemm'))
  assert.deepEqual(r.changed.map((c) => c.node), ['conv1'])
  assert.deepEqual(r.skipped, [{node: 'fc', opType: 'Gemm', reason: 'not selected by --include/--exclude'}])
  assert.ok(r.measurement.fidelity.cosineSimilarity > 0.99, `cosine ${r.measurement.fidelity.cosineSimilarity}`)
})

test('static on the MNIST CNN (percentile calibration, per-channel): ≤ 0.5 point loss', {skip: !existsSync(CNN)}, async () => {
  const out = join(dir, 'cnn-static.onnx')
  const r = await quantizeModel({input: CNN, out, mode: 'static', perChannel: true, calibrationData: EVAL, calibrationMethod: 'percentile', percentile: 99.999, calibrationSamples: 64, ...common})
  assert.ok(r.changed.some((c) => c.opType === 'Conv'))
  assert.ok(r.measurement.accuracy!.drop <= 0.005, `drop ${r.measurement.accuracy!.drop}`)
})

test('static on the MNIST CNN with entropy calibration: ≤ 0.5 point loss; a pre-Relu tensor takes the Relu output range', {skip: !existsSync(CNN)}, async () => {
  const out = join(dir, 'cnn-entropy.onnx')
  const r = await quantizeModel({input: CNN, out, mode: 'static', perChannel: true, calibrationData: EVAL, calibrationMethod: 'entropy', calibrationSamples: 128, ...common})
  assert.ok(r.measurement.accuracy!.drop <= 0.005, `drop ${r.measurement.accuracy!.drop}`)
  assert.ok(r.notes.some((n) => /\(entropy\)/.test(n)))
  // conv1.pre only feeds a Relu: quantised on [0, max] (int8 zero point −128), as ORT folds the Relu
  const m = readModel(out)
  const zp = m.graph!.initializer!.find((t) => t.name === 'conv1.pre_zero_point')!
  assert.equal(tensorToHost(zp).data[0], -128)
  const s1 = tensorToFloat32(m.graph!.initializer!.find((t) => t.name === 'conv1.pre_scale')!)[0]!
  const s2 = tensorToFloat32(m.graph!.initializer!.find((t) => t.name === 'conv1.out_scale')!)[0]!
  assert.equal(s1, s2)
})
