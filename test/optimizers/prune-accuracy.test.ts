// Pruning on the MNIST MLP, and the accuracy-aware fallback holding a budget.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {pruneModel} from '../../src/optimizers/service/prune.js'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {readModel} from '../../src/models/onnx/proto.js'
import {encodeModel} from '../../src/models/onnx/proto.js'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {tensorToFloat32, tensorDims, makeTensor, makeValueInfo} from '../../src/models/onnx/tensor.js'
import {existsSync, writeFileSync} from 'node:fs'
import {tmp, MLP, CNN, EVAL} from './helpers.js'

const dir = tmp()

test('structured 30% removes hidden neurons: smaller weights and file; mean replacement cuts the accuracy loss', async () => {
  const out = join(dir, 'mlp-s30.onnx')
  // data-free: incoming-weight L2 norm, no compensation (the figure before mean replacement)
  const free = await pruneModel({
    input: MLP,
    out: join(dir, 'mlp-s30-free.onnx'),
    sparsity: 0.3,
    method: 'structured',
    scope: 'layer',
    evalData: EVAL,
    dataAware: false,
    latencyBatches: [1],
  })
  const r = await pruneModel({
    input: MLP,
    out,
    sparsity: 0.3,
    method: 'structured',
    scope: 'layer',
    evalData: EVAL,
    calibrationSamples: 256,
    latencyBatches: [1, 32],
  })
  assert.ok(r.size.ratio < 0.75, `size ratio ${r.size.ratio}`)
  const m = readModel(out)
  const dims = m.graph!.initializer!.map((t) => tensorDims(t))
  assert.ok(
    dims.some((d) => d.join() === '784,90'),
    JSON.stringify(dims),
  )
  assert.ok(
    dims.some((d) => d.join() === '90,10'),
    JSON.stringify(dims),
  )
  assert.equal(r.layers[0]!.sparsity, 38 / 128)
  assert.match(r.changed[0]!.how, /activation variance × outgoing weight norm².*folded into logits.mm's bias/)
  // the next layer's bias moved (mean replacement), the data-free one did not
  const bias = (p: string) => tensorToFloat32(readModel(p).graph!.initializer!.find((t) => t.name === 'logits.bias')!)
  assert.notDeepEqual([...bias(out)], [...bias(MLP)])
  assert.deepEqual([...bias(join(dir, 'mlp-s30-free.onnx'))], [...bias(MLP)])
  const drop = r.measurement.accuracy!.drop
  const freeDrop = free.measurement.accuracy!.drop
  assert.ok(freeDrop > 0.03, `data-free drop ${freeDrop}`)
  assert.ok(drop <= 0.015 && drop < freeDrop / 3, `data-aware drop ${drop} vs data-free ${freeDrop}`)
  assert.match(r.verdict, /structured pruning changed the layer shapes/)
  assert.deepEqual(
    r.measurement.latency.map((l) => l.batch),
    [1, 32],
  )
})

for (const T of [0, 4])
  test(`mean replacement is exact for a neuron whose activation never varies (hand-checkable, MatMul without a bias, input ${T ? `[N, ${T}, 3]` : '[N, 3]'})`, async () => {
    // x → MatMul W1[3,4] → Add b1 → Relu → MatMul W2[4,2] → y. Neuron 2 has zero incoming weights and
    // bias 3, so it outputs 3 for every sample (and every position): variance 0, the least salient.
    // Removing it and adding 3·W2[2,:] = [3, −6] to a new bias of the second MatMul must leave y unchanged.
    // With a [N, 4, 3] input the channel is the last axis of the statistics, not the second.
    const d = tmp()
    const W1 = Float32Array.from([1, 0.5, 0, -1, 0.2, 1, 0, 0.3, -0.4, 0.1, 0, 2])
    const W2 = Float32Array.from([1, 2, -1, 0.5, 1, -2, 0.3, 0.7])
    const shape = (last: number) => (T ? ['N', T, last] : ['N', last])
    const model = makeModel({
      name: 'mr',
      opset: 13,
      nodes: [
        makeNode('MatMul', ['x', 'W1'], ['h'], {}, 'fc1'),
        makeNode('Add', ['h', 'b1'], ['hb'], {}, 'fc1.bias'),
        makeNode('Relu', ['hb'], ['a'], {}, 'relu'),
        makeNode('MatMul', ['a', 'W2'], ['y'], {}, 'fc2'),
      ],
      inputs: [makeValueInfo('x', 'float32', shape(3))],
      outputs: [makeValueInfo('y', 'float32', shape(2))],
      initializers: [
        makeTensor('W1', 'float32', [3, 4], W1),
        makeTensor('b1', 'float32', [4], Float32Array.from([0.1, 0.2, 3, 0.3])),
        makeTensor('W2', 'float32', [4, 2], W2),
      ],
    })
    const src = join(d, 'mr.onnx')
    writeFileSync(src, encodeModel(model))
    const data = join(d, 'x.jsonl')
    const row = (i: number) => [Math.sin(i), Math.cos(3 * i), (i % 7) / 3 - 1]
    writeFileSync(data, `${Array.from({length: 40}, (_, i) => JSON.stringify(T ? Array.from({length: T}, (_, t) => row(i * T + t)) : row(i))).join('\n')}\n`)
    const out = join(d, 'mr-pruned.onnx')
    const r = await pruneModel({input: src, out, sparsity: 0.25, method: 'structured', scope: 'layer', evalData: data, latencyBatches: [1]})
    const pm = readModel(out)
    assert.deepEqual(tensorDims(pm.graph!.initializer!.find((t) => t.name === 'W1')!), [3, 3])
    const nb = pm.graph!.initializer!.find((t) => /bias_compensated/.test(t.name!))!
    assert.deepEqual([...tensorToFloat32(nb)], [3, -6])
    assert.ok(pm.graph!.node!.some((n) => n.opType === 'Add' && n.output![0] === 'y'))
    assert.ok(r.measurement.fidelity.maxAbsError < 1e-5, `max abs err ${r.measurement.fidelity.maxAbsError}`)
  })

test('structured on the MNIST CNN prunes conv filters through Relu/MaxPool→Conv and Relu/MaxPool→Flatten→Gemm', {skip: !existsSync(CNN)}, async () => {
  const out = join(dir, 'cnn-s10.onnx')
  const r = await pruneModel({
    input: CNN,
    out,
    sparsity: 0.1,
    method: 'structured',
    scope: 'layer',
    evalData: EVAL,
    calibrationSamples: 256,
    latencyBatches: [1],
  })
  assert.deepEqual(
    r.changed.map((c) => c.node),
    ['conv1.pre', 'conv2.pre', 'fc1.pre'],
  )
  assert.match(r.changed[1]!.how, /25-row blocks of fc1.pre's inputs \(through Flatten\)/)
  const dims = Object.fromEntries(readModel(out).graph!.initializer!.map((t) => [t.name!, tensorDims(t).join('x')]))
  assert.equal(dims['conv1.weight'], '7x1x3x3')
  assert.equal(dims['conv2.weight'], '14x7x3x3')
  assert.equal(dims['fc1.weight'], '350x58')
  assert.ok(r.size.ratio < 0.85, `size ratio ${r.size.ratio}`)
  // it runs in onnxruntime (the service loaded it and ran every eval sample) and stays close
  assert.equal(r.measurement.fidelity.samples, 2000)
  assert.ok(r.measurement.fidelity.cosineSimilarity > 0.99, `cosine ${r.measurement.fidelity.cosineSimilarity}`)
  assert.ok(r.measurement.fidelity.top1Agreement! > 0.97, `top-1 agreement ${r.measurement.fidelity.top1Agreement}`)
  assert.ok(r.measurement.accuracy!.drop <= 0.015, `drop ${r.measurement.accuracy!.drop}`)
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
  for (let col = 0; col < 128; col += 17)
    for (let g = 0; g < 784; g += 4) {
      let nz = 0
      for (let k = g; k < g + 4; k++) if (v[k * 128 + col] !== 0) nz++
      assert.ok(nz <= 2, `column ${col} group ${g} keeps ${nz}`)
    }
  assert.ok(n.layers.every((l) => l.sparsity >= 0.5 - 1e-9))
})

test('accuracy-aware: a harmful calibration is rescued by falling nodes back until the budget holds', async () => {
  const out = join(dir, 'aa.onnx')
  const r = await quantizeModel({
    input: MLP,
    out,
    mode: 'static',
    calibrationData: EVAL,
    calibrationMethod: 'percentile',
    percentile: 80,
    evalData: EVAL,
    maxAccuracyDrop: 0.5,
    latencyBatches: [1],
  })
  const aa = r.accuracyAware!
  assert.ok(aa.trials[0]!.drop > 0.005, `first trial drop ${aa.trials[0]!.drop}`)
  assert.equal(aa.met, true)
  assert.ok(aa.keptFloat.length > 0 && aa.keptFloat.length < aa.ranking.length, `kept ${aa.keptFloat.length} of ${aa.ranking.length}`)
  assert.ok(r.measurement.accuracy!.drop <= 0.005)
  assert.deepEqual(
    aa.ranking.map((x) => x.mse),
    [...aa.ranking.map((x) => x.mse)].sort((a, b) => b - a),
  )
  assert.deepEqual(new Set(r.skipped.filter((s) => /accuracy-aware/.test(s.reason)).map((s) => s.node)), new Set(aa.keptFloat))
})
