/** Worker crash recovery, graceful drain, the API key, and the CLI's ready line and SIGTERM exit. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fixedModel, get, metric, post, scaleModel, serve, tmp} from './helpers.js'

const dir = tmp()
const fixed = fixedModel(join(dir, 'fixed.onnx'))
const scale = scaleModel(join(dir, 'scale.onnx'), 2)

test('a crashed worker fails only its own request and is replaced', async () => {
  const srv = await serve({models: [{name: 'f', path: fixed}], testHooks: true})
  const predict = () => post(`${srv.url}/v1/models/f:predict`, {instances: [[1, -1, 1, -1]]})
  try {
    assert.equal((await post(`${srv.url}/v1/_test/kill-worker?mode=next`, {})).json.killed, true)
    // One worker, batching off: the first request dies with the worker, the two queued behind it wait for the replacement.
    const res = await Promise.all([predict(), predict(), predict()])
    assert.deepEqual(
      res.map((r) => r.status),
      [503, 200, 200],
    )
    assert.match(res[0]!.json.error, /crashed; it is being replaced/)
    assert.deepEqual(res[1]!.json.predictions, [[1, 0, 1, 0]])
    await post(`${srv.url}/v1/_test/kill-worker`, {})
    assert.equal((await predict()).status, 200)
    const m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_worker_restarts_total', {model: 'f'}), 2)
    assert.equal(metric(m, 'tfsopt_workers', {model: 'f'}), 1)
  } finally {
    await srv.close()
  }
})

test('the test hook is off unless enabled', async () => {
  const srv = await serve({models: [{name: 'f', path: fixed}], testHooks: false})
  try {
    assert.equal((await post(`${srv.url}/v1/_test/kill-worker`, {})).status, 404)
  } finally {
    await srv.close()
  }
})

test('close() drains: queued and in-flight requests finish, new connections are refused', async () => {
  const srv = await serve({models: [{name: 's', path: scale}], injectLatencyMs: 300, batching: {maxBatchSize: 1}})
  const pending = [1, 2, 3].map((x) => post(`${srv.url}/v1/models/s:predict`, {instances: [[x, x, x, x]]}))
  await new Promise((r) => setTimeout(r, 100))
  await srv.close()
  const res = await Promise.all(pending)
  assert.deepEqual(
    res.map((r) => r.json.predictions[0][0]),
    [2, 4, 6],
  )
  await assert.rejects(fetch(`${srv.url}/healthz`))
})

test('--api-key: bearer token required everywhere but /healthz', async () => {
  const srv = await serve({models: [{name: 's', path: scale}], apiKey: 's3cret'})
  try {
    const body = {instances: [[1, 1, 1, 1]]}
    assert.equal((await post(`${srv.url}/v1/models/s:predict`, body)).status, 401)
    const wrong = await post(`${srv.url}/v1/models/s:predict`, body, {authorization: 'Bearer nope'})
    assert.equal(wrong.status, 401)
    assert.match(wrong.json.error, /Authorization: Bearer/)
    assert.equal((await get(`${srv.url}/metrics`)).status, 401)
    assert.equal((await post(`${srv.url}/v1/models/s:predict`, body, {authorization: 'Bearer s3cret'})).status, 200)
    assert.equal((await get(`${srv.url}/healthz`)).status, 200)
  } finally {
    await srv.close()
  }
})

test('tfsopt serve --json prints one ready line, serves, and exits 0 on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--no-warnings',
      'bin/dev.js',
      'serve',
      scale,
      '--json',
      '--port',
      '0',
      '--workers',
      '1',
      '--intra-op-threads',
      '1',
      '--warmup',
      '0',
      '--model-name',
      'sc',
    ],
    {stdio: ['ignore', 'pipe', 'pipe']},
  )
  const lines: string[] = []
  const rl = createInterface({input: child.stdout!})
  const first = new Promise<string>((resolve) => rl.once('line', resolve))
  rl.on('line', (l) => lines.push(l))
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  // If the command dies before it is ready, fail with its stderr instead of waiting forever.
  const ready = JSON.parse(await Promise.race([first, exited.then((c) => Promise.reject(new Error(`serve exited ${c}: ${stderr}`)))]))
  assert.equal(ready.event, 'ready')
  assert.equal(ready.pid, child.pid)
  assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  assert.deepEqual(Object.keys(ready.models[0]).sort(), ['backend', 'batching', 'cache', 'device', 'engine', 'intraOpThreads', 'name', 'version', 'workers'])
  assert.deepEqual(ready.models[0].batching, {enabled: true, maxBatchSize: 64, batchTimeoutMicros: 0, maxEnqueuedBatches: 128, allowedBatchSizes: []})
  const r = await post(`${ready.url}/v1/models/sc:predict`, {instances: [[1, 2, 3, 4]]})
  assert.deepEqual(r.json.predictions, [[2, 4, 6, 8]])
  child.kill('SIGTERM')
  assert.equal(await exited, 0, stderr)
  assert.equal(lines.length, 1)
})

test('tfsopt serve refuses impossible settings with a usage error', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--no-warnings', 'bin/dev.js', 'serve', fixed, '--port', '0', '--max-batch-size', '8', '--warmup', '0'],
    {stdio: ['ignore', 'pipe', 'pipe']},
  )
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  assert.equal(code, 2)
  assert.match(stderr, /cannot be batched: input 'x' has shape \[1, 4\]/)
})

test('a batch handed to a busy worker ahead of time is queued again, not failed, when that worker dies', async () => {
  const srv = await serve({models: [{name: 'f', path: fixed}], testHooks: true, injectLatencyMs: 800})
  const predict = (x: number) => post(`${srv.url}/v1/models/f:predict`, {instances: [[x, -1, x, -1]]})
  try {
    const first = predict(1)
    await new Promise((r) => setTimeout(r, 300)) // running in the only worker
    const second = predict(2) // batching is off, so its batch is full at once: sent ahead to the busy worker
    const third = predict(3)
    await new Promise((r) => setTimeout(r, 200))
    const q = metric((await get(`${srv.url}/metrics`)).text, 'tfsopt_queued_requests', {model: 'f'})
    assert.ok(q <= 1, `${q} requests queued: the second should wait at the worker`)
    assert.equal((await post(`${srv.url}/v1/_test/kill-worker?mode=now`, {})).json.killed, true)
    const res = await Promise.all([first, second, third])
    assert.deepEqual(
      res.map((r) => r.status),
      [503, 200, 200],
    )
    assert.deepEqual(res[1]!.json.predictions, [[2, 0, 2, 0]])
    assert.deepEqual(res[2]!.json.predictions, [[3, 0, 3, 0]])
  } finally {
    await srv.close()
  }
})
