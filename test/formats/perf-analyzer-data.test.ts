/** perf_analyzer's --input-data JSON read as a data set (flat lists, content/shape, b64 strings, bad files). */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadDataset} from '../../src/data/dataset.ts'

const file = (v: unknown) => {
  const p = join(mkdtempSync(join(tmpdir(), 'tfsopt-pa-')), 'input.json')
  writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v))
  return p
}

test('entries stack along a new batch dimension: flat lists, content with shape, b64 strings', () => {
  const ds = loadDataset(
    file({
      data: [
        {IN: [0.5, 1, 2, 3], IDS: {content: [1, 2, 3, 4, 5, 6], shape: [2, 3]}, TEXT: {b64: Buffer.from('héllo').toString('base64')}},
        {IN: [4, 5, 6, 7.25], IDS: {content: [7, 8, 9, 10, 11, 12], shape: [2, 3]}, TEXT: {b64: ''}},
      ],
    }),
  )
  assert.equal(ds.format, 'perf-analyzer')
  assert.equal(ds.count, 2)
  assert.deepEqual(ds.inputs.IN, {dtype: 'float32', dims: [2, 4], data: Float32Array.from([0.5, 1, 2, 3, 4, 5, 6, 7.25])})
  assert.deepEqual(ds.inputs.IDS!.dims, [2, 2, 3])
  assert.equal(ds.inputs.IDS!.dtype, 'int64')
  assert.deepEqual(ds.inputs.TEXT, {dtype: 'string', dims: [2, 1], data: ['héllo', '']})
})

test('bad perf_analyzer files say what is wrong', () => {
  assert.throws(() => loadDataset(file({data: []})), /"data" is empty/)
  assert.throws(() => loadDataset(file({data: [{IN: [1, 2]}, {IN: [1]}]})), /data entry 1, input IN has shape \[1\], the first has \[2\]/)
  assert.throws(() => loadDataset(file({data: [{IN: {content: [1, 2, 3], shape: [2, 2]}}]})), /"content" holds 3 values but "shape" \[2,2\] needs 4/)
  assert.throws(() => loadDataset(file({data: [{IN: [1]}, {OTHER: [1]}]})), /data entry 1 lacks input IN/)
})
