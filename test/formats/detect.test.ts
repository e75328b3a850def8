// detectModel: files, directories, and TF Serving base paths with numeric versions.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, mkdirSync, copyFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tmpdir} from 'node:os'
import {detectModel, listVersions} from '../../src/models/detect.js'
import {fixture, packagedModel} from '../../src/fixtures.js'

const code = (c: string) => (e: Error & {code?: string}) => e.code === c

test('files: .onnx, model.json and model.min.js', () => {
  assert.deepEqual(detectModel(fixture('models', 'mnist-mlp.onnx')), {format: 'onnx', path: fixture('models', 'mnist-mlp.onnx')})
  assert.equal(detectModel(fixture('models', 'mnist-mlp-tfjs', 'model.json')).format, 'tfjs')
  const nsfw = packagedModel('nsfw-mobilenet-v2')
  if (nsfw) assert.equal(detectModel(nsfw).format, 'tfjs')
})

test('directories: model.json inside, a single .onnx, saved_model.pb', () => {
  assert.deepEqual(detectModel(fixture('models', 'mnist-cnn-tfjs')), {format: 'tfjs', path: fixture('models', 'mnist-cnn-tfjs', 'model.json')})
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-detect-'))
  copyFileSync(fixture('models', 'mnist-mlp.onnx'), join(dir, 'digits.onnx'))
  assert.equal(detectModel(dir).path, join(dir, 'digits.onnx'))
  copyFileSync(fixture('models', 'mnist-cnn.onnx'), join(dir, 'other.onnx'))
  assert.throws(() => detectModel(dir), code('E_FORMAT'))
  const sm = join(dir, 'sm')
  mkdirSync(sm)
  writeFileSync(join(sm, 'saved_model.pb'), '')
  assert.deepEqual(detectModel(sm), {format: 'savedmodel', path: sm})
})

test('TF Serving base path: latest version by default, a named one on request', () => {
  const base = mkdtempSync(join(tmpdir(), 'tfsopt-base-'))
  for (const v of ['1', '3', '20']) {
    mkdirSync(join(base, v))
    copyFileSync(fixture('models', 'mnist-mlp.onnx'), join(base, v, 'model.onnx'))
  }
  mkdirSync(join(base, 'not-a-version'))
  assert.deepEqual(listVersions(base), [1, 3, 20])
  const latest = detectModel(base)
  assert.equal(latest.version, 20)
  assert.deepEqual(latest.versions, [1, 3, 20])
  assert.equal(latest.path, join(base, '20', 'model.onnx'))
  assert.equal(detectModel(base, 3).path, join(base, '3', 'model.onnx'))
  assert.throws(
    () => detectModel(base, 2),
    (e: Error & {code?: string}) => e.code === 'E_NOT_FOUND' && /1, 3, 20/.test(e.message),
  )
})

test('missing paths and unknown files are named errors', () => {
  assert.throws(() => detectModel('/nonexistent/model.onnx'), code('E_NOT_FOUND'))
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-detect-'))
  writeFileSync(join(dir, 'weights.h5'), 'x')
  assert.throws(() => detectModel(join(dir, 'weights.h5')), code('E_FORMAT'))
  assert.throws(() => detectModel(dir), code('E_FORMAT'))
})
