/** Version hot-swap under load, a broken new version, labels from a config file, and the response cache. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {get, metric, post, scaleModel, serve, tmp, versionedBase} from './helpers.js'
import {readModelConfig} from '../../src/server/index.js'

const until = async (what: string, fn: () => Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Adds a version atomically: written beside the base path, then renamed in. */
function addVersion(base: string, v: number, write: (file: string) => void): void {
  const stage = join(base, '..', `stage-${v}`)
  mkdirSync(stage, {recursive: true})
  write(join(stage, 'model.onnx'))
  renameSync(stage, join(base, String(v)))
}

test('a new version takes over under load without failing a request; a broken one leaves it serving; the cache follows', async () => {
  const root = tmp()
  const base = versionedBase(join(root, 'scale'), {1: 1})
  const cfg = join(root, 'models.yaml')
  writeFileSync(cfg, 'model_config_list:\n  - name: scale\n    base_path: ./scale\n    version_labels: {stable: 1, canary: 2}\n')
  const srv = await serve({models: readModelConfig(cfg), pollSeconds: 0.1, cacheSize: 100})
  const predict = (x: number) => post(`${srv.url}/v1/models/scale:predict`, {instances: [[x, x, x, x]]})
  try {
    // Cache: the second identical request is a hit and answers the same; a changed input misses.
    assert.deepEqual((await predict(5)).json.predictions, [[5, 5, 5, 5]])
    assert.deepEqual((await predict(5)).json.predictions, [[5, 5, 5, 5]])
    await predict(6)
    let m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_cache_hits_total', {model: 'scale'}), 1)
    assert.equal(metric(m, 'tfsopt_cache_misses_total', {model: 'scale'}), 2)
    assert.equal(metric(m, 'tfsopt_cache_entries'), 2)
    assert.equal(metric(m, 'tfsopt_batches_total', {model: 'scale'}), 2)
    assert.equal((await get(`${srv.url}/v1/models/scale/labels/stable`)).json.model_version_status[0].version, '1')

    // Load from 4 concurrent loops while version 2 (y = 2x) arrives.
    let stop = false
    const seen = new Set<number>()
    const failures: string[] = []
    const loops = [1, 2, 3, 4].map(async (i) => {
      while (!stop) {
        const r = await predict(i)
        if (r.status !== 200) failures.push(r.text)
        else seen.add(r.json.predictions[0][0] / i)
      }
    })
    await new Promise((r) => setTimeout(r, 200))
    addVersion(base, 2, (f) => scaleModel(f, 2))
    await until('version 2 to serve', async () => seen.has(2))
    await new Promise((r) => setTimeout(r, 200))
    stop = true
    await Promise.all(loops)
    assert.deepEqual(failures, [])
    assert.ok(seen.has(1) && seen.has(2))
    await until('version 1 to end', async () => (await get(`${srv.url}/v1/models/scale/versions/1`)).json.model_version_status[0].state === 'END')
    assert.equal((await get(`${srv.url}/v1/models/scale/labels/canary`)).status, 200)
    assert.equal((await post(`${srv.url}/v1/models/scale/labels/stable:predict`, {instances: [[1, 1, 1, 1]]})).status, 404)
    // The swap dropped version 1's cached answers: the same input now gets version 2's answer.
    assert.deepEqual((await predict(5)).json.predictions, [[10, 10, 10, 10]])

    // A broken version 3: reported in the status and the log, version 2 keeps serving.
    addVersion(base, 3, (f) => writeFileSync(f, 'not an onnx model'))
    await until('version 3 to fail', async () => {
      const st = (await get(`${srv.url}/v1/models/scale`)).json.model_version_status
      return st.some((s: {version: string; state: string}) => s.version === '3' && s.state === 'END')
    })
    const st = (await get(`${srv.url}/v1/models/scale/versions/3`)).json.model_version_status[0]
    assert.equal(st.status.error_code, 'UNKNOWN')
    assert.match(st.status.error_message, /not a valid ONNX model|could not load/)
    assert.deepEqual((await predict(7)).json.predictions, [[14, 14, 14, 14]])
    m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_model_state', {model: 'scale', version: '2', state: 'AVAILABLE'}), 1)
    assert.equal(metric(m, 'tfsopt_model_state', {model: 'scale', version: '1', state: 'END'}), 1)
  } finally {
    await srv.close()
  }
})

test('the cache is bounded by entries, counting evictions', async () => {
  const root = tmp()
  const srv = await serve({models: [{name: 's', path: scaleModel(join(root, 's.onnx'), 1)}], cacheSize: 2})
  try {
    for (const x of [1, 2, 3, 1]) await post(`${srv.url}/v1/models/s:predict`, {instances: [[x, x, x, x]]})
    const m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_cache_entries'), 2)
    assert.equal(metric(m, 'tfsopt_cache_evictions_total', {model: 's'}), 2)
    assert.equal(metric(m, 'tfsopt_cache_hits_total', {model: 's'}) || 0, 0) // never incremented: no sample yet
    assert.deepEqual(srv.models()[0]!.cache.maxEntries, 2)
  } finally {
    await srv.close()
  }
})

test('a version caught half-written is retried once its file is complete (written in place, directory mtime unchanged)', async () => {
  const root = tmp()
  const base = versionedBase(join(root, 'scale'), {1: 1})
  const full = readFileSync(scaleModel(join(root, 'full.onnx'), 4))
  const srv = await serve({models: [{name: 'scale', path: base}], pollSeconds: 0.2})
  try {
    mkdirSync(join(base, '2'))
    writeFileSync(join(base, '2', 'model.onnx'), full.subarray(0, full.length >> 1))
    const status = async () => (await get(`${srv.url}/v1/models/scale/versions/2`)).json?.model_version_status?.[0]
    await until('the truncated version to fail', async () => (await status())?.state === 'END')
    assert.notEqual((await status()).status.error_message, '')
    appendFileSync(join(base, '2', 'model.onnx'), full.subarray(full.length >> 1))
    await until('version 2 to load after its file was completed', async () => (await status())?.state === 'AVAILABLE')
    assert.deepEqual((await post(`${srv.url}/v1/models/scale:predict`, {instances: [[1, 1, 1, 1]]})).json.predictions, [[4, 4, 4, 4]])
  } finally {
    await srv.close()
  }
})
