// A model carrying fields the ONNX schema does not know (at model, graph, node and initializer level)
// goes through every ONNX optimiser; what the optimiser did not replace keeps its unknown fields.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {PACKAGE_ROOT} from '../../src/fixtures.js'
import {quantizeModel, type QuantizeArgs} from '../../src/optimizers/service/quantize.js'
import {pruneModel, type PruneArgs} from '../../src/optimizers/service/prune.js'
import {encodeModel, readModel} from '../../src/models/onnx/proto.js'
import {assertUnknownFieldsKept, countWireField, plantUnknownFields} from '../support/unknown-fields.js'
import {tmp, EVAL, MLP} from './helpers.js'

const dir = tmp()
const src = join(dir, 'mlp-unknown.onnx')
const original = plantUnknownFields(readModel(MLP))
writeFileSync(src, encodeModel(original))

function check(out: string, what: string): void {
  const kept = assertUnknownFieldsKept(original, readModel(out), what)
  // the optimisers keep at least the nodes they do not rewrite (Add, Relu, Softmax in every mode here)
  assert.ok(kept.nodes > 0, `${what}: no original node survived to check`)
}

const quantizeCases: [string, Partial<QuantizeArgs>][] = [
  ['dynamic', {mode: 'dynamic'}],
  ['static with calibration data', {mode: 'static', calibrationData: EVAL, calibrationSamples: 32}],
  ['weight-only', {mode: 'weight-only'}],
  ['float16', {mode: 'float16'}],
  ['dynamic --strip-names', {mode: 'dynamic', stripNames: true}],
  ['static --strip-names', {mode: 'static', calibrationData: EVAL, calibrationSamples: 32, stripNames: true}],
]
for (const [what, args] of quantizeCases) {
  test(`quantize ${what}: unknown fields kept`, async () => {
    const out = join(dir, `q-${what.replace(/\W+/g, '-')}.onnx`)
    await quantizeModel({input: src, out, latencyBatches: [1], ...args})
    check(out, `quantize ${what}`)
  })
}

const pruneCases: [string, Partial<PruneArgs>][] = [
  ['magnitude', {method: 'magnitude', sparsity: 0.5}],
  ['n:m 2:4', {method: 'n:m', sparsity: 0.5, pattern: '2:4'}],
  ['structured', {method: 'structured', sparsity: 0.25, evalData: EVAL, calibrationSamples: 64}],
]
for (const [what, args] of pruneCases) {
  test(`prune ${what}: unknown fields kept`, async () => {
    const out = join(dir, `p-${what.replace(/\W+/g, '-')}.onnx`)
    await pruneModel({input: src, out, scope: 'layer', latencyBatches: [1], sparsity: 0.5, method: 'magnitude', ...args})
    check(out, `prune ${what}`)
  })
}

test('float16 through the CLI keeps the model-level field byte for byte (the case the issue reported lost)', () => {
  const out = join(dir, 'cli-fp16.onnx')
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'run.js'), 'quantize', src, '--mode', 'float16', '-o', out], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(countWireField(readFileSync(out), 'model'), 1)
})
