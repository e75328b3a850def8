/** Dynamic batching: concurrent requests really share a batch, padding is counted, the queue is bounded. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {fixedModel, get, metric, post, scaleModel, serve, tmp} from './helpers.js'

const dir = tmp()
const scale3 = scaleModel(join(dir, 'scale.onnx'), 3)
const fixed = fixedModel(join(dir, 'fixed.onnx'))

test('concurrent requests merge into one batch and each gets its own rows', async () => {
  // A batch closes when full (4 rows) long before this timeout: the merge does not depend on timing.
  const srv = await serve({models: [{name: 's', path: scale3}], batching: {maxBatchSize: 4, batchTimeoutMicros: 60_000_000}})
  try {
    const reqs = [
      [[1, 1, 1, 1]],
      [
        [2, 2, 2, 2],
        [3, 3, 3, 3],
      ],
      [[4, 4, 4, 4]],
    ].map((rows) => post(`${srv.url}/v1/models/s:predict`, {instances: rows}))
    const res = await Promise.all(reqs)
    assert.deepEqual(
      res.map((r) => r.json.predictions),
      [
        [[3, 3, 3, 3]],
        [
          [6, 6, 6, 6],
          [9, 9, 9, 9],
        ],
        [[12, 12, 12, 12]],
      ],
    )
    const m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_batches_total', {model: 's'}), 1)
    assert.equal(metric(m, 'tfsopt_batch_size_sum', {model: 's'}), 4)
    assert.equal(metric(m, 'tfsopt_inferences_total', {model: 's'}), 4)
    assert.equal(metric(m, 'tfsopt_queue_latency_seconds_count', {model: 's'}), 3)
    assert.equal(srv.models()[0]!.batching.maxBatchSize, 4)
  } finally {
    await srv.close()
  }
})

test('batches pad up to the next allowed size, and padding is counted', async () => {
  const srv = await serve({models: [{name: 's', path: scale3}], batching: {maxBatchSize: 8, allowedBatchSizes: [4, 8], batchTimeoutMicros: 0}})
  try {
    const r = await post(`${srv.url}/v1/models/s:predict`, {
      inputs: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [0, 0, 0, 1],
      ],
    })
    assert.deepEqual(r.json.outputs, [
      [3, 6, 9, 12],
      [15, 18, 21, 24],
      [0, 0, 0, 3],
    ])
    const m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_padding_size_total', {model: 's'}), 1)
    assert.equal(metric(m, 'tfsopt_batch_size_sum', {model: 's'}), 3)
    const big = await post(`${srv.url}/v1/models/s:predict`, {inputs: Array.from({length: 9}, () => [1, 1, 1, 1])})
    assert.equal(big.status, 400)
    assert.match(big.json.error, /9 rows is larger than max_batch_size 8/)
  } finally {
    await srv.close()
  }
})

test('a full queue answers 503 at once; the requests already queued still succeed', async () => {
  // Batching is off for the fixed-shape model, so each request is its own batch; one may wait.
  const srv = await serve({models: [{name: 'f', path: fixed}], batching: {maxEnqueuedBatches: 1}, injectLatencyMs: 500})
  try {
    assert.equal(srv.models()[0]!.batching.enabled, false)
    const res = await Promise.all([0, 1, 2, 3].map(() => post(`${srv.url}/v1/models/f:predict`, {instances: [[-1, 2, -3, 4]]})))
    const codes = res.map((r) => r.status).sort()
    assert.deepEqual(codes, [200, 200, 503, 503])
    for (const r of res) {
      if (r.status === 200) assert.deepEqual(r.json.predictions, [[0, 2, 0, 4]])
      else assert.match(r.json.error, /queue is full \(1 batches waiting, --max-enqueued-batches\)/)
    }
  } finally {
    await srv.close()
  }
})

test('settings that cannot work together are refused at start', async () => {
  await assert.rejects(serve({models: [{name: 'f', path: fixed}], batching: {maxBatchSize: 8}}), /cannot be batched: input 'x' has shape \[1, 4\]/)
  await assert.rejects(
    serve({models: [{name: 's', path: scale3}], batching: {maxBatchSize: 8, allowedBatchSizes: [2, 4]}}),
    /must end with --max-batch-size \(8\)/,
  )
})

test('when the queue is full, a predict is refused with 503 before its body is read', async () => {
  const srv = await serve({models: [{name: 'f', path: fixed}], batching: {maxEnqueuedBatches: 1}, injectLatencyMs: 1500})
  try {
    const body = {instances: [[-1, 2, -3, 4]]}
    const running = post(`${srv.url}/v1/models/f:predict`, body)
    await new Promise((r) => setTimeout(r, 300))
    const queued = post(`${srv.url}/v1/models/f:predict`, body)
    await new Promise((r) => setTimeout(r, 300))
    // Headers only, the body never sent: the answer can only come from the check made before reading.
    const {connect} = await import('node:net')
    const answer = await new Promise<string>((resolve) => {
      const s = connect(srv.port, '127.0.0.1', () =>
        s.write('POST /v1/models/f:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n'),
      )
      let text = ''
      s.on('data', (d) => {
        text += d
        if (text.includes('}')) {
          s.destroy()
          resolve(text)
        }
      })
      s.on('error', () => resolve(text))
    })
    assert.match(answer, /^HTTP\/1\.1 503 /)
    assert.match(answer, /queue is full/)
    assert.match(answer, /connection: close/i)
    assert.deepEqual(
      (await Promise.all([running, queued])).map((r) => r.status),
      [200, 200],
    )
  } finally {
    await srv.close()
  }
})
