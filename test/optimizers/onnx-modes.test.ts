// Every ONNX mode on the real MNIST fixtures (and a self-built Conv model), outputs compared with
// the float32 model by onnxruntime, plus the graph each mode must produce.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {readModel, tensorTypeOf} from '../../src/models/onnx/proto.js'
import {ort} from '../../src/runtime/onnx-session.js'
import {tensorToFloat32, tensorToHost} from '../../src/models/onnx/tensor.js'
import {tmp, writeConvModel, writeDeadFilterModel, writeHugeBnModel, writeSharedReaderModel, writeImageInputs, MLP, CNN, EVAL} from './helpers.js'

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
  assert.equal(tensorTypeOf(m.graph!.input[0])!.elemType, 1)
  assert.equal(tensorTypeOf(m.graph!.output[0])!.elemType, 1)
  assert.ok(
    m.graph!.initializer!.every((t) => t.dataType !== 1),
    'no float32 initializer left',
  )
  assert.ok(r.size.ratio <= 0.52, `size ratio ${r.size.ratio}`)
  assert.ok(r.measurement.accuracy!.drop <= 0.001)
  assert.ok(r.measurement.fidelity.maxAbsError < 0.01)
})

test('float16 keeps nodes whose values float16 cannot hold in float32 (a BN with variances of 1e8, a conv reaching 1e4)', async () => {
  const d = tmp()
  const src = writeHugeBnModel(join(d, 'bn.onnx'))
  const out = join(d, 'bn-fp16.onnx')
  const r = await quantizeModel({input: src, out, mode: 'float16', calibrationData: writeImageInputs(join(d, 'x.jsonl'), 8, 1, 100), latencyBatches: [1]})
  const reasons = new Map(r.skipped.map((s) => [s.node, s.reason]))
  assert.match(reasons.get('bn') ?? '', /constant var reaches 9\.00e\+7, beyond float16's safe range/)
  assert.match(reasons.get('conv') ?? '', /output c reached \d+ on the probe inputs/)
  assert.ok(
    r.notes.some((n) => /2 node\(s\) kept in float32/.test(n)),
    r.notes.join(' | '),
  )
  // their constants were not clamped: still float32 in the file
  const inits = new Map(readModel(out).graph!.initializer!.map((t) => [t.name!, t.dataType]))
  assert.equal(inits.get('var'), 1)
  assert.equal(inits.get('W'), 1)
  assert.ok(r.measurement.fidelity.cosineSimilarity > 0.9999, `cosine ${r.measurement.fidelity.cosineSimilarity}`)
  // Relu, Mul and Neg ran in float16; the graph output y, also read by Neg, kept its float32 name and type
  assert.deepEqual(
    r.changed.map((c) => c.node),
    ['scale'],
  )
  assert.ok(!reasons.has('relu') && !reasons.has('neg'))
  assert.deepEqual(
    readModel(out).graph!.output!.map((o) => [o.name, tensorTypeOf(o)!.elemType]),
    [
      ['y', 1],
      ['z', 1],
    ],
  )
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
  assert.deepEqual(
    r.changed.map((c) => c.node),
    ['conv1'],
  )
  assert.deepEqual(r.skipped, [{node: 'fc', opType: 'Gemm', reason: 'not selected by --include/--exclude'}])
  assert.ok(r.measurement.fidelity.cosineSimilarity > 0.99, `cosine ${r.measurement.fidelity.cosineSimilarity}`)
})

test('dynamic --per-channel on the MNIST CNN: int8 filters per channel (no filter zero point), scales broadcast per channel', async () => {
  const d = tmp()
  const pc = await quantizeModel({input: CNN, out: join(d, 'cnn-dyn-pc.onnx'), mode: 'dynamic', perChannel: true, ...common})
  const g = readModel(pc.output).graph!
  const conv = g.node!.find((n) => n.opType === 'ConvInteger')!
  assert.equal(conv.input!.length, 3, 'symmetric int8 filters: the zero point (0) is left to its default')
  const scale = g.initializer!.find((t) => t.name === 'conv1.weight_scale_reshaped')!
  assert.deepEqual(scale.dims!.map(Number), [1, 8, 1, 1])
  assert.ok(pc.changed.filter((c) => c.opType === 'Conv').every((c) => /per-channel/.test(c.how)))
  assert.ok(pc.measurement.accuracy!.drop <= 0.005, `drop ${pc.measurement.accuracy!.drop}`)
  assert.ok(pc.measurement.fidelity.cosineSimilarity > 0.9999)
  // asymmetric uint8 filters would need one zero point per channel, which ConvInteger does not take here
  const u8 = await quantizeModel({input: CNN, out: join(d, 'cnn-dyn-u8.onnx'), mode: 'dynamic', perChannel: true, weightType: 'uint8', ...common})
  assert.ok(u8.notes.some((n) => /Conv weights stay per-tensor with --weight-type uint8/.test(n)))
  assert.equal(readModel(u8.output).graph!.node!.find((n) => n.opType === 'ConvInteger')!.input!.length, 4)
})

test('static on the MNIST CNN (percentile calibration, per-channel): ≤ 0.5 point loss', {skip: !existsSync(CNN)}, async () => {
  const out = join(dir, 'cnn-static.onnx')
  const r = await quantizeModel({
    input: CNN,
    out,
    mode: 'static',
    perChannel: true,
    calibrationData: EVAL,
    calibrationMethod: 'percentile',
    percentile: 99.999,
    calibrationSamples: 64,
    ...common,
  })
  assert.ok(r.changed.some((c) => c.opType === 'Conv'))
  assert.ok(r.measurement.accuracy!.drop <= 0.005, `drop ${r.measurement.accuracy!.drop}`)
})

test("static on the MNIST CNN with entropy calibration: ≤ 0.5 point loss; Relus folded into [0, max] Q/DQ, pools share their input's", {
  skip: !existsSync(CNN),
}, async () => {
  const out = join(dir, 'cnn-entropy.onnx')
  const r = await quantizeModel({
    input: CNN,
    out,
    mode: 'static',
    perChannel: true,
    calibrationData: EVAL,
    calibrationMethod: 'entropy',
    calibrationSamples: 128,
    ...common,
  })
  assert.ok(r.measurement.accuracy!.drop <= 0.005, `drop ${r.measurement.accuracy!.drop}`)
  assert.ok(r.notes.some((n) => /\(entropy\)/.test(n)))
  const m = readModel(out)
  const g = m.graph!
  const init = (name: string) => g.initializer!.find((t) => t.name === name)
  // Every Relu followed a quantised op: removed, the op writes the Relu's tensor, quantised on [0, max]
  // with the uint8 zero point at 0 (which clamps negatives as the Relu did), as ORT's QDQ graphs do.
  assert.ok(!g.node!.some((n) => n.opType === 'Relu'))
  assert.deepEqual(
    r.changed.filter((c) => c.opType === 'Relu').map((c) => c.node),
    ['conv1.out', 'conv2.out', 'fc1.out'],
  )
  assert.deepEqual(g.node!.find((n) => n.name === 'conv1.pre')!.output, ['conv1.out'])
  assert.equal(tensorToHost(init('conv1.out_zero_point')!).data[0], 0)
  assert.equal(init('conv1.out_zero_point')!.dataType, 2, 'uint8 activations by default')
  assert.equal(init('conv1.pre_scale'), undefined)
  // MaxPool's output is quantised with its input's scale and zero point, not a range of its own
  const q = g.node!.find((n) => n.opType === 'QuantizeLinear' && n.input![0] === 'pool1.out')!
  assert.deepEqual(q.input!.slice(1), ['conv1.out_scale', 'conv1.out_zero_point'])
  assert.equal(init('pool1.out_scale'), undefined)
  // int32 biases are dequantised without a zero point (0 by definition)
  const bdq = g.node!.find((n) => n.opType === 'DequantizeLinear' && n.input![0] === 'conv1.bias_quantized')!
  assert.equal(bdq.input!.length, 2)
  assert.equal(tensorToFloat32(init('conv1.bias_quantized_scale')!).length, 8)
})

test('static: a near-dead filter keeps its bias (weight scale raised so the int32 bias fits, as ORT does)', async () => {
  const d = tmp()
  const src = writeDeadFilterModel(join(d, 'dead.onnx'))
  const data = writeImageInputs(join(d, 'x.jsonl'), 16, 1, 100)
  for (const perChannel of [true, false]) {
    const out = join(d, `dead-${perChannel}.onnx`)
    const r = await quantizeModel({input: src, out, mode: 'static', perChannel, calibrationData: data, latencyBatches: [1]})
    // per channel, filter 0's own scale (1e-30/127) would push 2.0/(s_x·s_w) past int32; per tensor it shares a sane scale
    assert.equal(
      r.notes.some((n) => /weight scales raised so the int32 bias cannot overflow.*W \(1\)/.test(n)),
      perChannel,
      r.notes.join(' | '),
    )
    // filter 0's output is its bias 2.0 in the float model: still 2.0 after quantisation, within a step
    assert.ok(r.measurement.fidelity.cosineSimilarity > 0.99, `perChannel ${perChannel}: cosine ${r.measurement.fidelity.cosineSimilarity}`)
    const b = readModel(out).graph!.initializer!.find((t) => t.name === 'B_quantized')!
    assert.ok(Math.abs(tensorToHost(b).data[0] as number) < 2147483647)
  }
})

test('static default (uint8 activations): onnxruntime fuses every Conv, also one whose output two ops read', async () => {
  const d = tmp()
  const src = writeSharedReaderModel(join(d, 'shared.onnx'))
  const out = join(d, 'shared-q.onnx')
  const r = await quantizeModel({
    input: src,
    out,
    mode: 'static',
    perChannel: true,
    calibrationData: writeImageInputs(join(d, 'x.jsonl'), 8, 8, 200),
    latencyBatches: [1],
  })
  assert.ok(r.measurement.fidelity.cosineSimilarity > 0.999)
  const optimized = join(d, 'shared-q.opt.onnx')
  await (await ort().InferenceSession.create(out, {graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3})).release()
  const ops = readModel(optimized).graph!.node!.map((n) => n.opType)
  // c0, c1 (read by two convs), ba and bb run as QLinearConv; the last conv writes the float graph output
  assert.equal(ops.filter((o) => o === 'QLinearConv').length, 4, ops.join(','))
})
