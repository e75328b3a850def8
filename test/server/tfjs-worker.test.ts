/** The TF.js backend inside the worker threads answers exactly what the same model gives in-process. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {openSession} from '../../src/runtime/load.js'
import {floats, get, post, serve} from './helpers.js'

const MODEL = join('fixtures', 'models', 'mnist-mlp-tfjs', 'model.json')

test('a TF.js model served by workers matches running it in-process via openSession', {
  skip: !existsSync(MODEL) && 'fixtures/models/mnist-mlp-tfjs is not built',
}, async () => {
  const rows = [floats(784, 7), floats(784, 8), floats(784, 9)]
  const direct = await openSession(MODEL, {backend: 'tfjs', device: 'cpu'})
  let want: Float32Array
  let outName: string
  try {
    outName = direct.outputs[0]!.name
    const out = await direct.run({[direct.inputs[0]!.name]: {dtype: 'float32', dims: [3, 784], data: Float32Array.from(rows.flat())}})
    want = out[outName]!.data as Float32Array
  } finally {
    await direct.dispose()
  }
  // Two workers and batching on: the three rows may be merged into one batch or run apart.
  const srv = await serve({models: [{name: 'tfjs', path: MODEL}], backend: 'tfjs', device: 'cpu', workers: 2})
  try {
    const info = srv.models()[0]!
    assert.equal(info.backend, 'tfjs')
    assert.equal(info.workers, 2)
    const md = await get(`${srv.url}/v1/models/tfjs/metadata`)
    assert.deepEqual(Object.keys(md.json.metadata.signature_def.signature_def.serving_default.outputs), [outName])
    const each = await Promise.all(rows.map((r) => post(`${srv.url}/v1/models/tfjs:predict`, {instances: [r]})))
    const all = await post(`${srv.url}/v1/models/tfjs:predict`, {inputs: rows})
    for (const [i, r] of each.entries()) {
      assert.equal(r.status, 200, r.text)
      const got = r.json.predictions[0] as number[]
      assert.equal(got.length, 10)
      // Responses carry float32 values written so that they parse back to the exact float32.
      for (let j = 0; j < 10; j++)
        assert.ok(
          Math.abs(Math.fround(got[j]!) - want[i * 10 + j]!) <= 1e-5 * Math.max(1, Math.abs(want[i * 10 + j]!)),
          `row ${i} logit ${j}: ${got[j]} vs ${want[i * 10 + j]}`,
        )
    }
    assert.equal(all.status, 200, all.text)
    assert.equal((all.json.outputs as number[][]).flat().length, 30)
    for (let k = 0; k < 30; k++)
      assert.ok(Math.abs(Math.fround((all.json.outputs as number[][]).flat()[k]!) - want[k]!) <= 1e-5 * Math.max(1, Math.abs(want[k]!)))
  } finally {
    await srv.close()
  }
})
