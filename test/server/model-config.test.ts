/** --model-config-file: per-model batching overrides the server-wide flags, model by model. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {readModelConfig} from '../../src/server/index.js'
import {get, metric, post, scaleModel, serve, tmp} from './helpers.js'

const dir = tmp()
mkdirSync(join(dir, 'models'))
scaleModel(join(dir, 'models', 'a.onnx'), 2)
scaleModel(join(dir, 'models', 'b.onnx'), 3)

test('per-model batching in the config file overrides the flags for that model only', async () => {
  const file = join(dir, 'models.yaml')
  writeFileSync(
    file,
    [
      'model_config_list:',
      '  - name: small',
      '    base_path: ./models/a.onnx',
      '    batching: {max_batch_size: 4, allowed_batch_sizes: [2, 4], max_enqueued_batches: 7}',
      '  - name: plain',
      '    base_path: ./models/b.onnx',
      '',
    ].join('\n'),
  )
  const models = readModelConfig(file)
  assert.deepEqual(models.find((m) => m.name === 'small')!.batching, {
    maxBatchSize: 4,
    batchTimeoutMicros: undefined,
    maxEnqueuedBatches: 7,
    allowedBatchSizes: [2, 4],
  })
  // Server-wide flags: the model without its own settings gets them; the other one overrides them.
  const srv = await serve({models, batching: {maxBatchSize: 16, maxEnqueuedBatches: 9}})
  try {
    const by = Object.fromEntries(srv.models().map((m) => [m.name, m.batching]))
    assert.deepEqual(by.small, {enabled: true, maxBatchSize: 4, batchTimeoutMicros: 0, maxEnqueuedBatches: 7, allowedBatchSizes: [2, 4]})
    assert.deepEqual(by.plain, {enabled: true, maxBatchSize: 16, batchTimeoutMicros: 0, maxEnqueuedBatches: 9, allowedBatchSizes: []})

    // Behaviour follows the settings: 5 rows exceed small's max_batch_size 4 but not plain's 16.
    const five = {instances: Array.from({length: 5}, (_, i) => [i, i, i, i])}
    const tooBig = await post(`${srv.url}/v1/models/small:predict`, five)
    assert.equal(tooBig.status, 400)
    assert.match(tooBig.json.error, /5 rows is larger than max_batch_size 4/)
    const ok = await post(`${srv.url}/v1/models/plain:predict`, five)
    assert.equal(ok.status, 200)
    assert.deepEqual(ok.json.predictions[4], [12, 12, 12, 12])

    // One row on small is padded to its smallest allowed size (2); plain never pads.
    const one = await post(`${srv.url}/v1/models/small:predict`, {instances: [[1, 2, 3, 4]]})
    assert.deepEqual(one.json.predictions, [[2, 4, 6, 8]])
    const m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_padding_size_total', {model: 'small'}), 1)
    assert.ok(!(metric(m, 'tfsopt_padding_size_total', {model: 'plain'}) > 0))
  } finally {
    await srv.close()
  }
})

test('a per-model batching setting that cannot work is refused at start, naming the model', async () => {
  const file = join(dir, 'bad.json')
  writeFileSync(
    file,
    JSON.stringify({model_config_list: [{name: 'small', base_path: './models/a.onnx', batching: {max_batch_size: 8, allowed_batch_sizes: [2, 4]}}]}),
  )
  await assert.rejects(serve({models: readModelConfig(file)}), /allowed-batch-sizes must end with --max-batch-size \(8\)/)
})
