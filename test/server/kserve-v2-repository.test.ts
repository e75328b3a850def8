/**
 * KServe v2's model repository extension against a real server: the index lists every model this server
 * knows, unload refuses new requests and frees the version, load brings it back, and what cannot be done
 * is refused with {"error"} and the status the extension gives.
 */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {get, metric, post, scaleModel, serve, tmp, versionedBase} from './helpers.js'

const dir = tmp()
const scale = scaleModel(join(dir, 'scale.onnx'), 3)
const base = versionedBase(join(dir, 'versioned'), {1: 1, 2: 2})
let srv: Awaited<ReturnType<typeof serve>>
const u = (p: string) => srv.url + p
const infer = (model: string) => post(u(`/v2/models/${model}/infer`), {inputs: [{name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4]}]})

before(async () => {
  srv = await serve({
    models: [
      {name: 's', path: scale},
      {name: 'v', path: base, policy: {all: {}}},
    ],
  })
})
after(() => srv.close())

test('the server names the extension; the index lists every model and version, {"ready": true} only the ready ones', async () => {
  assert.ok((await get(u('/v2'))).json.extensions.includes('model_repository'))
  const idx = await post(u('/v2/repository/index'), {})
  assert.equal(idx.status, 200)
  assert.deepEqual(idx.json, [
    {name: 's', version: '1', state: 'READY', reason: ''},
    {name: 'v', version: '1', state: 'READY', reason: ''},
    {name: 'v', version: '2', state: 'READY', reason: ''},
  ])
})

test('unload refuses new requests (503 saying how to load), frees the workers and shows UNAVAILABLE; load serves again', async () => {
  assert.deepEqual((await infer('s')).json.outputs[0].data, [3, 6, 9, 12])
  const un = await post(u('/v2/repository/models/s/unload'), {})
  assert.equal(un.status, 200, un.text)
  const refused = await infer('s')
  assert.equal(refused.status, 503)
  assert.match(refused.json.error, /model 's' is unloaded; load it again with POST \/v2\/repository\/models\/s\/load/)
  // TF Serving REST sees the same state: the version ENDed, and its predict is refused too.
  assert.deepEqual(
    (await get(u('/v1/models/s'))).json.model_version_status.map((x: {state: string}) => x.state),
    ['END'],
  )
  assert.equal((await post(u('/v1/models/s:predict'), {instances: [[1, 2, 3, 4]]})).status, 503)
  assert.equal(metric((await get(u('/metrics'))).text, 'tfsopt_workers', {model: 's'}), 0, 'the unloaded version still holds workers')
  const idx = await post(u('/v2/repository/index'), {})
  assert.deepEqual(
    idx.json.find((e: {name: string}) => e.name === 's'),
    {name: 's', state: 'UNAVAILABLE', reason: 'unloaded'},
  )
  assert.deepEqual(
    (await post(u('/v2/repository/index'), {ready: true})).json.map((e: {name: string}) => e.name),
    ['v', 'v'],
  )
  // The other model is untouched, and readiness counts only the models meant to be loaded.
  assert.deepEqual((await infer('v')).json.outputs[0].data, [2, 4, 6, 8])
  assert.equal((await get(u('/v2/health/ready'))).status, 200)

  const load = await post(u('/v2/repository/models/s/load'), {})
  assert.equal(load.status, 200, load.text)
  assert.deepEqual((await infer('s')).json.outputs[0].data, [3, 6, 9, 12])
  assert.equal((await post(u('/v2/repository/index'), {ready: true})).json.length, 3)
  // Loading what is loaded is a no-op, not an error.
  assert.equal((await post(u('/v2/repository/models/s/load'), {})).status, 200)
})

test('unknown models, load parameters, bad bodies and GET are refused with {"error"}', async () => {
  const unknown = await post(u('/v2/repository/models/nope/load'), {})
  assert.equal(unknown.status, 404)
  assert.match(unknown.json.error, /model 'nope' is not in this server's repository/)
  const params = await post(u('/v2/repository/models/s/load'), {parameters: {config: '{}'}})
  assert.equal(params.status, 400)
  assert.match(params.json.error, /parameters .* are not supported/)
  const bad = await fetch(u('/v2/repository/index'), {method: 'POST', body: '[1,'})
  assert.equal(bad.status, 400)
  assert.match(((await bad.json()) as {error: string}).error, /not valid JSON/)
  const g = await get(u('/v2/repository/models/s/unload'))
  assert.equal(g.status, 405)
  assert.ok(g.json.error)
})
