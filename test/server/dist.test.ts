/**
 * The compiled CLI (`node bin/run.js`, dist/ — `npm run build` first): the worker threads start from
 * dist/server/worker.js, not through tsx, so this is the path users run. Predict (JSON and binary), a
 * crashed worker replaced from dist, metrics, gRPC on --grpc-port, and a clean SIGTERM exit.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {Metadata} from '@grpc/grpc-js'
import {create} from '@bufbuild/protobuf'
import {get, metric, post, scaleModel, tmp} from './helpers.js'
import {call, predictionClient} from '../../src/server/grpc/client.js'
import {DataType} from '../../src/server/grpc/gen/tensorflow/core/framework/types_pb.js'
import {PredictRequestSchema} from '../../src/server/grpc/gen/tensorflow_serving/apis/predict_pb.js'

const scale = scaleModel(join(tmp(), 'scale.onnx'), 5)

test('node bin/run.js serve predicts through the compiled worker, replaces a crashed one, exits 0', async () => {
  assert.ok(existsSync('dist/server/worker.js'), 'dist/server/worker.js is missing: run `npm run build` first')
  const srv = await startServe([
    '--workers',
    '2',
    '--intra-op-threads',
    '1',
    '--warmup',
    '1',
    '--model-name',
    'sc',
    '--grpc-port',
    '0',
    '--grpc-tensor-content',
  ])
  const ready = srv.ready
  try {
    assert.equal(ready.event, 'ready')
    assert.equal(ready.models[0].workers, 2)
    const r = await post(`${ready.url}/v1/models/sc:predict`, {
      instances: [
        [1, 2, 3, 4],
        [0, 0, 0, -1],
      ],
    })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(r.json.predictions, [
      [5, 10, 15, 20],
      [0, 0, 0, -5],
    ])

    const bin = await fetch(`${ready.url}/v1/models/sc:predict`, {
      method: 'POST',
      body: new Uint8Array(Float32Array.from([1, 1, 2, 2]).buffer),
      headers: {'content-type': 'application/octet-stream', accept: 'application/octet-stream', 'x-tfsopt-tensors': 'x:float32:1x4'},
    })
    assert.equal(bin.status, 200)
    assert.equal(bin.headers.get('x-tfsopt-tensors'), 'y:float32:1x4')
    assert.deepEqual([...new Float32Array(await bin.arrayBuffer())], [5, 5, 10, 10])

    // A worker killed at once is replaced by a fresh dist/server/worker.js thread; requests keep working.
    assert.equal((await post(`${ready.url}/v1/_test/kill-worker`, {})).json.killed, true)
    for (let i = 0; i < 4; i++) assert.equal((await post(`${ready.url}/v1/models/sc:predict`, {instances: [[1, 1, 1, 1]]})).status, 200)
    let m = ''
    for (let i = 0; i < 100; i++) {
      m = (await get(`${ready.url}/metrics`)).text
      if (metric(m, 'tfsopt_workers', {model: 'sc'}) === 2 && metric(m, 'tfsopt_worker_restarts_total', {model: 'sc'}) === 1) break
      await new Promise((res) => setTimeout(res, 100))
    }
    assert.equal(metric(m, 'tfsopt_workers', {model: 'sc'}), 2, 'the killed worker was not replaced')
    assert.equal(metric(m, 'tfsopt_worker_restarts_total', {model: 'sc'}), 1)
    assert.equal(metric(m, 'tfsopt_requests_total', {model: 'sc', status: '200'}), 6)

    // --grpc-port 0: the ready event names the gRPC target; --grpc-tensor-content answers raw bytes.
    assert.match(ready.grpc, /^127\.0\.0\.1:\d+$/)
    const c = predictionClient(ready.grpc)
    try {
      const req = create(PredictRequestSchema, {
        modelSpec: {name: 'sc'},
        inputs: {x: {dtype: DataType.DT_FLOAT, tensorShape: {dim: [{size: 1n}, {size: 4n}]}, floatVal: [1, 2, 3, 4]}},
      })
      const res = await call(c.predict, c, req, new Metadata())
      assert.deepEqual([...new Float32Array(Uint8Array.from(res.outputs.y!.tensorContent).buffer)], [5, 10, 15, 20])
    } finally {
      c.close()
    }
  } finally {
    await srv.stop()
  }
})

test('SIGTERM while a crashed worker is being replaced: the replacement is stopped too and serve exits 0', async () => {
  const srv = await startServe(['--workers', '1', '--model-name', 'sc'])
  const ready = srv.ready
  assert.equal((await post(`${ready.url}/v1/_test/kill-worker`, {})).json.killed, true)
  // Wait until the replacement has been started (it then loads its model for a while), then stop.
  for (let i = 0; i < 200 && !srv.stderr().includes('starting a replacement worker'); i++) await new Promise((r) => setTimeout(r, 10))
  assert.match(srv.stderr(), /starting a replacement worker/)
  await srv.stop()
})

/** `node bin/run.js serve <scale model> --json --port 0 ...args` with the test hooks on, once it printed its ready event. */
async function startServe(args: string[]) {
  const child = spawn(process.execPath, ['bin/run.js', 'serve', scale, '--json', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {...process.env, TFSOPT_TEST_HOOKS: '1'},
  })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const first = new Promise<string>((resolve) => createInterface({input: child.stdout!}).once('line', resolve))
  const ready = JSON.parse(await Promise.race([first, exited.then((c) => Promise.reject(new Error(`serve exited ${c}: ${stderr}`)))]))
  return {
    ready,
    stderr: () => stderr,
    /**
     * SIGTERM, then exit 0. A server that drains but never exits (a leaked worker thread or socket)
     * fails here, saying so, instead of holding the suite until the runner's 5-minute timeout.
     */
    async stop(): Promise<void> {
      child.kill('SIGTERM')
      const late = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const code = await exited
      clearTimeout(late)
      assert.equal(code, 0, `serve did not exit by itself within 20 s of SIGTERM:\n${stderr}`)
    },
  }
}
