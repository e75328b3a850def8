/**
 * `serve --access-log`: real servers, real requests over REST, gRPC and KServe v2 (REST and gRPC); the
 * file is read after the server closed (close flushes it). One line per inference request, JSON, with
 * every field; statuses of a 400 and a 404; x-request-id taken and echoed (REST header, gRPC metadata);
 * sampling 0 writes nothing; the config file's access_log; a path that cannot be written is refused.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Metadata} from '@grpc/grpc-js'
import {create} from '@bufbuild/protobuf'
import {floats, get, post, scaleModel, serve, tmp} from './helpers.js'
import {call, predictionClient, v2Client} from '../../src/server/grpc/client.js'
import {TensorProtoSchema} from '../../src/server/grpc/gen/tensorflow/core/framework/tensor_pb.js'
import {DataType} from '../../src/server/grpc/gen/tensorflow/core/framework/types_pb.js'
import {PredictRequestSchema} from '../../src/server/grpc/gen/tensorflow_serving/apis/predict_pb.js'
import {ModelInferRequestSchema} from '../../src/server/kserve/gen/grpc_predict_v2_pb.js'
import {readAccessLogConfig} from '../../src/server/server-config.js'
import {TfsoptError} from '../../src/errors.js'

const dir = tmp('tfsopt-access-log-')
const model = scaleModel(join(dir, 'scale.onnx'), 2)
const FIELDS = [
  'log',
  'time',
  'request_id',
  'protocol',
  'model',
  'version',
  'status',
  'latency_ms',
  'queue_ms',
  'compute_ms',
  'batch_size',
  'rows',
  'bytes_in',
  'bytes_out',
  'cache',
]
const lines = (file: string): Record<string, any>[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : []

test('one JSON line per inference request on every front, with all fields; 400 and 404 logged with their status', async () => {
  const file = join(dir, 'all.log')
  const srv = await serve({models: [{name: 'scale', path: model}], grpcPort: 0, accessLog: {destination: file}})
  const pc = predictionClient(`127.0.0.1:${srv.grpcPort}`)
  const vc = v2Client(`127.0.0.1:${srv.grpcPort}`)
  let grpcEcho: string | undefined
  try {
    const ok = await fetch(`${srv.url}/v1/models/scale:predict`, {
      method: 'POST',
      body: JSON.stringify({instances: [[1, 2, 3, 4]]}),
      headers: {'x-request-id': 'req-42'},
    })
    assert.equal(ok.status, 200)
    assert.equal(ok.headers.get('x-request-id'), 'req-42')
    const okBytes = (await ok.arrayBuffer()).byteLength
    assert.equal((await post(`${srv.url}/v1/models/scale:predict`, {instances: [[1, 2]]})).status, 400)
    assert.equal((await post(`${srv.url}/v1/models/nope:predict`, {instances: [[1, 2, 3, 4]]})).status, 404)
    const v2 = await post(`${srv.url}/v2/models/scale/infer`, {inputs: [{name: 'x', shape: [2, 4], datatype: 'FP32', data: floats(8)}]})
    assert.equal(v2.status, 200, v2.text)
    const md = new Metadata()
    md.set('x-request-id', 'grpc-7')
    const tensor = create(TensorProtoSchema, {dtype: DataType.DT_FLOAT, tensorShape: {dim: [{size: 1n}, {size: 4n}]}, floatVal: [1, 2, 3, 4]} as never)
    await new Promise<void>((resolve, reject) => {
      const c = (pc as any).predict(create(PredictRequestSchema, {modelSpec: {name: 'scale'}, inputs: {x: tensor}} as never), md, (err: Error | null) =>
        err ? reject(err) : resolve(),
      )
      c.on('metadata', (m: Metadata) => (grpcEcho = m.get('x-request-id')[0] as string))
    })
    await call(
      vc.modelInfer,
      vc,
      create(ModelInferRequestSchema, {
        modelName: 'scale',
        inputs: [{name: 'x', datatype: 'FP32', shape: [1n, 4n], contents: {fp32Contents: [1, 2, 3, 4]}}],
      } as never),
      new Metadata(),
    )
    // not inference: no line
    assert.equal((await get(`${srv.url}/v1/models/scale`)).status, 200)
    const log = await srv.close().then(() => lines(file))
    assert.equal(grpcEcho, 'grpc-7')
    assert.deepEqual(
      log.map((l) => `${l.protocol} ${l.model} ${l.status}`),
      ['rest scale 200', 'rest scale 400', 'rest nope 404', 'v2-rest scale 200', 'grpc scale 200', 'v2-grpc scale 200'],
    )
    for (const l of log) assert.deepEqual(Object.keys(l), FIELDS)
    const [rest, bad, missing, v2rest, grpc, v2grpc] = log as [any, any, any, any, any, any]
    assert.equal(rest.request_id, 'req-42')
    assert.equal(rest.log, 'access')
    assert.ok(!Number.isNaN(Date.parse(rest.time)))
    assert.equal(rest.version, 1)
    assert.equal(rest.rows, 1)
    assert.ok(rest.batch_size >= 1)
    assert.ok(rest.queue_ms >= 0 && rest.compute_ms > 0 && rest.latency_ms >= rest.compute_ms, JSON.stringify(rest))
    assert.equal(rest.bytes_in, JSON.stringify({instances: [[1, 2, 3, 4]]}).length)
    assert.equal(rest.bytes_out, okBytes)
    assert.equal(bad.compute_ms, null)
    assert.match(bad.request_id, /^[0-9a-f-]{36}$/)
    assert.equal(missing.version, null)
    assert.ok(missing.bytes_out > 0)
    assert.equal(v2rest.rows, 2)
    assert.equal(grpc.request_id, 'grpc-7')
    assert.equal(grpc.version, 1)
    assert.ok(grpc.bytes_in > 16 && grpc.bytes_out > 16, JSON.stringify(grpc))
    assert.ok(v2grpc.compute_ms > 0)
    assert.ok(new Set(log.map((l) => l.request_id)).size === 6)
  } finally {
    pc.close()
    vc.close()
    await srv.close()
  }
})

test('--access-log-sample 0 writes nothing (the request id is still echoed); 1 writes every request', async () => {
  const none = join(dir, 'none.log')
  const srv = await serve({models: [{name: 'scale', path: model}], accessLog: {destination: none, sample: 0}})
  try {
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${srv.url}/v1/models/scale:predict`, {method: 'POST', body: JSON.stringify({instances: [[i, 0, 0, 0]]})})
      assert.equal(r.status, 200)
      assert.ok(r.headers.get('x-request-id'))
      await r.arrayBuffer()
    }
  } finally {
    await srv.close()
  }
  assert.equal(readFileSync(none, 'utf8'), '')
  const half = join(dir, 'half.log')
  const s2 = await serve({models: [{name: 'scale', path: model}], accessLog: {destination: half, sample: 0.5}})
  try {
    for (let i = 0; i < 200; i++) assert.equal((await post(`${s2.url}/v1/models/scale:predict`, {instances: [[i, 0, 0, 0]]})).status, 200)
  } finally {
    await s2.close()
  }
  const n = lines(half).length
  // Binomial(200, 0.5): outside 60..140 with probability < 1e-8.
  assert.ok(n > 60 && n < 140, `${n} of 200 logged at sample 0.5`)
})

test('access_log in the model config file; a bad sample or an unwritable path is refused', async () => {
  const cfg = join(dir, 'models.yaml')
  writeFileSync(cfg, `model_config_list:\n  - {name: scale, base_path: ./scale.onnx}\naccess_log: {destination: ./from-config.log, sample: 1}\n`)
  const opts = readAccessLogConfig(cfg)
  assert.deepEqual(opts, {destination: join(dir, 'from-config.log'), sample: 1})
  const srv = await serve({models: [{name: 'scale', path: model}], accessLog: opts})
  try {
    assert.equal((await post(`${srv.url}/v1/models/scale:predict`, {instances: [[1, 1, 1, 1]]})).status, 200)
  } finally {
    await srv.close()
  }
  assert.equal(lines(join(dir, 'from-config.log')).length, 1)
  writeFileSync(cfg, `model_config_list:\n  - {name: scale, base_path: ./scale.onnx}\naccess_log: {destination: stderr, sample: 2}\n`)
  assert.throws(() => readAccessLogConfig(cfg), /sample must be a fraction from 0 to 1/)
  await assert.rejects(
    serve({models: [{name: 'scale', path: model}], accessLog: {destination: join(dir, 'no-such-dir', 'a.log')}}),
    (e: Error) => e instanceof TfsoptError && e.code === 'E_USAGE' && /cannot be opened/.test(e.message),
  )
})
