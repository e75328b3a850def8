// TF.js model.json + shards: nsfwjs' JS-wrapped uint8-quantised weights, layers vs graph detection.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {tfjsArtifacts} from '../../src/runtime/tfjs-session.js'
import {readShards, decodeAllWeights, isLayersModel, storedElementBytes, elementsOf, readTfjsModelJson} from '../../src/models/tfjs/artifacts.js'
import {loadTfjs} from '../../src/runtime/tfjs-backend.js'
import {packagedModel, fixture} from '../../src/fixtures.js'

const nsfw = packagedModel('nsfw-mobilenet-v2')
const nsfwMid = packagedModel('nsfw-mobilenet-v2-mid')

test('nsfwjs uint8 weights dequantise as tfjs defines it: v = q·scale + min', {skip: nsfw ? false : 'nsfwjs not installed'}, () => {
  const json = readTfjsModelJson(nsfw!)
  const bytes = readShards(nsfw!, json)
  const decoded = decodeAllWeights(json, bytes)
  assert.equal(decoded.length, json.weightsManifest.flatMap((g) => g.weights).length)
  let offset = 0
  let checked = 0
  for (const d of decoded) {
    const q = d.entry.quantization
    assert.ok(q && q.dtype === 'uint8', `${d.entry.name} is uint8-quantised`)
    assert.equal(d.storedBytes, elementsOf(d.entry.shape) * storedElementBytes(d.entry))
    for (const i of [0, 1, d.values.length - 1]) {
      assert.equal(d.values[i], Math.fround(bytes[offset + i]! * q.scale! + q.min!), `${d.entry.name}[${i}]`)
      checked++
    }
    offset += d.storedBytes
  }
  assert.equal(offset, bytes.length, 'the manifest covers the shards exactly')
  assert.ok(checked > 300)
})

test('our dequantised weights equal what stock tfjs loads', {skip: nsfw ? false : 'nsfwjs not installed'}, async () => {
  const {tf} = await loadTfjs('cpu')
  const json = readTfjsModelJson(nsfw!)
  const ours = new Map(decodeAllWeights(json, readShards(nsfw!, json)).map((d) => [d.entry.name, d.values]))
  const model = await tf.loadLayersModel(tf.io.fromMemory(tfjsArtifacts(nsfw!)))
  try {
    let compared = 0
    for (const w of model.weights) {
      const mine = ours.get(w.originalName)
      if (!mine || compared >= 12) continue
      const theirs = w.read().dataSync()
      assert.equal(theirs.length, mine.length)
      for (let i = 0; i < theirs.length; i += Math.max(1, Math.floor(theirs.length / 50))) {
        assert.ok(Math.abs(theirs[i]! - mine[i]!) <= 1e-6 * Math.max(1, Math.abs(mine[i]!)), `${w.originalName}[${i}]: tfjs ${theirs[i]} vs ours ${mine[i]}`)
      }
      compared++
    }
    assert.equal(compared, 12)
  } finally {
    model.dispose()
  }
})

test('layers vs graph models are told apart', () => {
  assert.equal(isLayersModel(readTfjsModelJson(fixture('models', 'mnist-mlp-tfjs', 'model.json'))), true)
  if (nsfw) assert.equal(isLayersModel(readTfjsModelJson(nsfw)), true)
  if (nsfwMid) assert.equal(isLayersModel(readTfjsModelJson(nsfwMid)), false)
})

test('a multi-megabyte JS-wrapped shard (nsfwjs mobilenet_v2_mid) is read', {skip: nsfwMid ? false : 'nsfwjs not installed'}, () => {
  const json = readTfjsModelJson(nsfwMid!)
  const bytes = readShards(nsfwMid!, json)
  const need = json.weightsManifest.flatMap((g) => g.weights).reduce((s, w) => s + elementsOf(w.shape) * storedElementBytes(w), 0)
  assert.equal(bytes.length, need)
})

test('a model.json that is not TF.js, or truncated shards, fail with a named error', async () => {
  const {mkdtempSync, writeFileSync, copyFileSync} = await import('node:fs')
  const {join} = await import('node:path')
  const {tmpdir} = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-tfjs-'))
  writeFileSync(join(dir, 'model.json'), '{"hello": 1}')
  assert.throws(
    () => readTfjsModelJson(join(dir, 'model.json')),
    (e: Error & {code?: string}) => e.code === 'E_FORMAT',
  )
  copyFileSync(fixture('models', 'mnist-mlp-tfjs', 'model.json'), join(dir, 'model.json'))
  writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(100))
  const json = readTfjsModelJson(join(dir, 'model.json'))
  assert.throws(
    () => decodeAllWeights(json, readShards(join(dir, 'model.json'), json)),
    (e: Error & {code?: string}) => e.code === 'E_CORRUPT',
  )
})
