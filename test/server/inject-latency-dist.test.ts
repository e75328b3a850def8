/** --inject-latency-dist exp: the injected sleep is exponential (some far shorter, some far longer than the mean). */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {post, scaleModel, serve, tmp} from './helpers.js'

const scale = scaleModel(join(tmp(), 'scale.onnx'), 2)

test('exp: 20 sequential requests at a 200 ms mean include one under 100 ms (P(none) = 0.61^20 ≈ 5e-5) and the answers stay right', async () => {
  const srv = await serve({models: [{name: 's', path: scale}], injectLatencyMs: 200, injectLatencyDist: 'exp', batching: {maxBatchSize: 1}})
  try {
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now()
      const r = await post(`${srv.url}/v1/models/s:predict`, {instances: [[i, 1, 1, 1]]})
      times.push(performance.now() - t0)
      assert.equal(r.json.predictions[0][0], 2 * i)
    }
    assert.ok(Math.min(...times) < 100, `shortest ${Math.min(...times)} ms: a fixed 200 ms sleep never gets below 200`)
  } finally {
    await srv.close()
  }
})

test('fixed (the default): every request takes at least the injected time', async () => {
  const srv = await serve({models: [{name: 's', path: scale}], injectLatencyMs: 60, batching: {maxBatchSize: 1}})
  try {
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now()
      await post(`${srv.url}/v1/models/s:predict`, {instances: [[1, 1, 1, 1]]})
      assert.ok(performance.now() - t0 >= 59)
    }
  } finally {
    await srv.close()
  }
})
