// The data loader: eval-set JSON, JSON lines, ONNX test-data directories; and feeds shaped per model.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, mkdirSync, writeFileSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {tmpdir} from 'node:os'
import {loadDataset, datasetFeeds} from '../../src/data/dataset.js'
import {encodeTensor} from '../../src/models/onnx/proto.js'
import {makeTensor} from '../../src/models/onnx/tensor.js'
import {DEFAULT_EVAL_SET} from '../../src/fixtures.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'tfsopt-data-'))

test('MNIST eval set: uint8-affine pixels decode to q/255 with labels', () => {
  const ds = loadDataset(DEFAULT_EVAL_SET)
  const raw = JSON.parse(readFileSync(DEFAULT_EVAL_SET, 'utf8')) as {inputs: {'*': {data: string}}}
  const q = Buffer.from(raw.inputs['*'].data, 'base64')
  assert.equal(ds.format, 'evalset')
  assert.equal(ds.count, 2000)
  assert.deepEqual(ds.inputs['*']!.dims, [2000, 28, 28])
  assert.equal(ds.labels!.length, 2000)
  assert.deepEqual(new Set(ds.labels), new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
  const x = ds.inputs['*']!.data as Float32Array
  for (const i of [0, 300, 1234, x.length - 1]) assert.equal(x[i], Math.fround(q[i]! / 255))
  // The first 16 samples already cover several digits (the split is shuffled, not sorted by class).
  assert.ok(new Set(ds.labels!.slice(0, 16)).size >= 5)
})

test('eval-set feeds reshape per model: [28,28] → [784] and [1,28,28]', () => {
  const ds = loadDataset(DEFAULT_EVAL_SET)
  const mlp = datasetFeeds(ds, [{name: 'input', dtype: 'float32', shape: ['batch', 784]}], 10, 4)
  assert.deepEqual(mlp.input!.dims, [4, 784])
  assert.equal((mlp.input!.data as Float32Array)[0], (ds.inputs['*']!.data as Float32Array)[10 * 784])
  const cnn = datasetFeeds(ds, [{name: 'input', dtype: 'float32', shape: ['batch', 1, 28, 28]}], 0, 2)
  assert.deepEqual(cnn.input!.dims, [2, 1, 28, 28])
  assert.throws(
    () => datasetFeeds(ds, [{name: 'x', dtype: 'float32', shape: [null, 3, 48, 192]}]),
    (e: Error & {code?: string}) => e.code === 'E_DATA' && /784 values per sample/.test(e.message),
  )
})

test('JSON lines: arrays, labelled instances and TF Serving bodies', () => {
  const dir = tmp()
  const p = join(dir, 'd.jsonl')
  writeFileSync(p, ['{"instance": [1, 2, 3], "label": 1}', '{"instance": [4, 5, 6], "label": 0}', ''].join('\n'))
  const ds = loadDataset(p)
  assert.equal(ds.format, 'jsonl')
  assert.deepEqual(ds.inputs['*']!.dims, [2, 3])
  assert.deepEqual(Array.from(ds.inputs['*']!.data as Float32Array), [1, 2, 3, 4, 5, 6])
  assert.deepEqual(ds.labels, [1, 0])
  const q = join(dir, 'named.jsonl')
  writeFileSync(q, '{"instances": [{"ids": [1, 2], "x": [0.5]}, {"ids": [3, 4], "x": [1.5]}]}\n')
  const named = loadDataset(q)
  assert.equal(named.count, 2)
  assert.equal(named.inputs.ids!.dtype, 'int64')
  assert.deepEqual(named.inputs.x!.dims, [2, 1])
  const bad = join(dir, 'bad.jsonl')
  writeFileSync(bad, '[1,2]\n[1,2,3]\n')
  assert.throws(
    () => loadDataset(bad),
    (e: Error & {code?: string}) => e.code === 'E_DATA' && /instance 2/.test(e.message),
  )
  writeFileSync(bad, '[1,2]\nnot json\n')
  assert.throws(() => loadDataset(bad), /:2: not valid JSON/)
})

test('ONNX test-data directory: sets are stacked along the batch, outputs kept as expected', () => {
  const dir = tmp()
  for (const k of [0, 1]) {
    const set = join(dir, `test_data_set_${k}`)
    mkdirSync(set)
    const x = Float32Array.from({length: 6}, (_, i) => k * 10 + i)
    writeFileSync(join(set, 'input_0.pb'), encodeTensor(makeTensor('x', 'float32', [1, 2, 3], x)))
    writeFileSync(join(set, 'output_0.pb'), encodeTensor(makeTensor('y', 'float32', [1, 1], [k])))
  }
  const ds = loadDataset(dir)
  assert.equal(ds.format, 'onnx-test-data')
  assert.equal(ds.count, 2)
  assert.deepEqual(ds.inputs.x!.dims, [2, 2, 3])
  assert.deepEqual(Array.from(ds.inputs.x!.data as Float32Array), [0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15])
  assert.deepEqual(Array.from(ds.expected!.y!.data as Float32Array), [0, 1])
  const empty = tmp()
  assert.throws(
    () => loadDataset(empty),
    (e: Error & {code?: string}) => e.code === 'E_DATA',
  )
})

test('missing or empty data files are E_DATA errors', () => {
  assert.throws(
    () => loadDataset('/nonexistent.json'),
    (e: Error & {code?: string}) => e.code === 'E_DATA',
  )
  const p = join(tmp(), 'empty.json')
  writeFileSync(p, '  \n')
  assert.throws(
    () => loadDataset(p),
    (e: Error & {code?: string}) => e.code === 'E_DATA',
  )
})
