// `quantize --mode auto` on the real MNIST models with the real onnxruntime. No timing thresholds: every
// assertion is about the tool's own measurements (its JSON), which a noisy machine cannot make disagree.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {groupUnits} from '../../src/optimizers/service/auto.js'
import {TfsoptError} from '../../src/errors.js'
import {tmp, MLP, CNN, EVAL} from './helpers.js'

const dir = tmp()

test('groupUnits: a unit without weights joins the weighted unit before it', () => {
  const g = groupUnits([
    {node: 'relu0', weights: []},
    {node: 'conv1', weights: ['W1']},
    {node: 'relu1', weights: []},
    {node: 'pool1', weights: []},
    {node: 'fc', weights: ['W2']},
  ])
  assert.deepEqual(
    [...g.entries()],
    [
      ['relu0', ['relu0']],
      ['conv1', ['conv1', 'relu1', 'pool1']],
      ['fc', ['fc']],
    ],
  )
})

test('auto on the MNIST MLP at batch 32: a model not slower than float32 by its own verification, per-node figures, within budget', async () => {
  const out = join(dir, 'mlp-auto.onnx')
  const before = readFileSync(MLP)
  // batch 32 only: there dynamic int8 of the hidden layer is ×0.55–0.7, far outside the noise
  const r = await quantizeModel({input: MLP, out, mode: 'auto', evalData: EVAL, latencyBatches: [32], threads: 1})
  assert.ok(existsSync(out))
  assert.ok(readFileSync(MLP).equals(before), 'the input is untouched')
  const a = r.auto!
  assert.ok(a.chosen)
  assert.deepEqual(
    a.candidates.map((c) => c.name),
    ['dynamic', 'static', 'static per-channel'],
  )
  for (const l of r.measurement.latency) assert.ok(l.ratio <= 1, `auto reported ×${l.ratio} at batch ${l.batch}`)
  const chosen = a.candidates.find((c) => c.name === a.chosen)!
  assert.ok(chosen.admissible && chosen.nodes.some((n) => n.kept))
  assert.deepEqual(
    chosen.ratios,
    r.measurement.latency.map((l) => l.ratio),
    'the reported measurement is the verification run',
  )
  // every kept node was faster alone at every batch
  for (const n of chosen.nodes.filter((x) => x.kept))
    assert.ok(
      n.ratios.every((x) => x < 1),
      JSON.stringify(n),
    )
  assert.ok(r.measurement.accuracy!.drop <= 0.005)
  assert.ok(r.measurement.fidelity.cosineSimilarity >= 0.99)
  assert.deepEqual(r.warnings, [])
  assert.ok(r.changed.length > 0)
})

test('auto on the MNIST CNN without data: either a model not slower at any batch, or exit 1 naming why and nothing written', async () => {
  const out = join(dir, 'cnn-auto.onnx')
  try {
    const r = await quantizeModel({input: CNN, out, mode: 'auto', latencyBatches: [1, 32], threads: 1})
    for (const l of r.measurement.latency) assert.ok(l.ratio <= 1, `×${l.ratio} at batch ${l.batch}`)
    assert.ok(existsSync(out))
  } catch (err) {
    assert.ok(err instanceof TfsoptError, String(err))
    assert.equal(err.code, 'E_RUNTIME')
    assert.match(err.message, /no candidate beats float32 at batch 1, 32 with 1 thread\(s\) \(dynamic: /)
    assert.ok(!existsSync(out), 'nothing written')
  }
})

test('auto --force on the MNIST CNN always writes, and warns whenever what it wrote measured slower', async () => {
  const out = join(dir, 'cnn-auto-force.onnx')
  const r = await quantizeModel({input: CNN, out, mode: 'auto', latencyBatches: [1], threads: 1, force: true})
  assert.ok(existsSync(out))
  const slow = r.measurement.latency.some((l) => l.ratio > 1.05)
  assert.equal(r.warnings.length > 0, slow)
})

test('--objective / --min-cosine without --mode auto, and --max-trials with it, are usage errors', async () => {
  await assert.rejects(quantizeModel({input: MLP, out: join(dir, 'x.onnx'), mode: 'dynamic', objective: 'size'}), /steer --mode auto/)
  await assert.rejects(quantizeModel({input: MLP, out: join(dir, 'y.onnx'), mode: 'auto', evalData: EVAL, maxAccuracyDrop: 1, maxTrials: 2}), /--max-trials/)
})
