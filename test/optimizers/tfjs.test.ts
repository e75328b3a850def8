// TF.js quantisation: the manifest is tfjs-converter's, and stock @tensorflow/tfjs loads it over HTTP
// (its own io handler, nothing from tfsopt) with the weights decoded to the expected values.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createServer} from 'node:http'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {AddressInfo} from 'node:net'
import * as tf from '@tensorflow/tfjs'
import {quantizeModel} from '../../src/optimizers/service/quantize.js'
import {tfjsQuantize} from '../../src/optimizers/quant/math.js'
import {tmp, MLP_TFJS, EVAL} from './helpers.js'

test('uint8 TF.js output: tfjs-converter manifest, loads in stock tfjs, ≤ 0.5 point loss', async () => {
  const out = join(tmp(), 'mlp-uint8')
  const r = await quantizeModel({input: MLP_TFJS, out, mode: 'uint8', evalData: EVAL, latencyBatches: [1]})
  assert.ok(r.measurement.accuracy!.drop <= 0.005, `drop ${r.measurement.accuracy!.drop}`)
  assert.ok(r.size.ratio < 0.27)
  const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'))
  const entries = json.weightsManifest.flatMap((g: {weights: unknown[]}) => g.weights)
  const kernel = entries.find((e: {name: string}) => /kernel/.test(e.name))
  assert.equal(kernel.dtype, 'float32')
  assert.equal(kernel.quantization.dtype, 'uint8')
  assert.equal(kernel.quantization.original_dtype, 'float32')
  assert.equal(typeof kernel.quantization.min, 'number')
  assert.equal(typeof kernel.quantization.scale, 'number')

  // the expected quantisation of that kernel, from the original float32 shard
  const src = JSON.parse(readFileSync(join(MLP_TFJS, 'model.json'), 'utf8'))
  const bin = readFileSync(join(MLP_TFJS, src.weightsManifest[0].paths[0]))
  let off = 0
  let orig: Float32Array | undefined
  for (const e of src.weightsManifest[0].weights) {
    const n = e.shape.reduce((a: number, b: number) => a * b, 1)
    if (e.name === kernel.name) orig = new Float32Array(Uint8Array.prototype.slice.call(bin, off, off + 4 * n).buffer)
    off += 4 * n
  }
  const q = tfjsQuantize(orig!, 8)
  assert.equal(kernel.quantization.scale, q.scale)
  assert.equal(kernel.quantization.min, q.min)

  // stock tfjs over HTTP
  const server = createServer((req, res) => {
    try {
      res.end(readFileSync(join(out, decodeURIComponent(req.url!.slice(1)))))
    } catch {
      res.statusCode = 404
      res.end()
    }
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  try {
    await tf.setBackend('cpu')
    const model = await tf.loadLayersModel(`http://127.0.0.1:${(server.address() as AddressInfo).port}/model.json`)
    const w = model.getWeights().find((t) => (t as unknown as {name: string}).name.includes(kernel.name.split('/')[0]) && t.shape.length === 2)!
    const got = await w.data()
    for (const i of [0, 1, 1000, got.length - 1]) assert.ok(Math.abs(got[i]! - (q.data[i]! * q.scale + q.min)) < 1e-6, `weight ${i}`)
    const y = model.predict(tf.zeros([1, 784])) as tf.Tensor
    assert.deepEqual(y.shape, [1, 10])
    model.dispose()
  } finally {
    server.close()
  }
})

test('float16 TF.js with --exclude keeps the excluded weight float32', async () => {
  const out = join(tmp(), 'mlp-fp16')
  const r = await quantizeModel({input: MLP_TFJS, out, mode: 'float16', exclude: ['*bias*'], evalData: EVAL, latencyBatches: [1]})
  const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'))
  for (const e of json.weightsManifest[0].weights) {
    if (/bias/.test(e.name)) assert.equal(e.quantization, undefined)
    else assert.deepEqual(e.quantization, {dtype: 'float16', original_dtype: 'float32'})
  }
  assert.ok(r.skipped.every((s) => s.reason === 'not selected by --include/--exclude'))
  assert.ok(r.measurement.accuracy!.drop <= 0.001)
})
