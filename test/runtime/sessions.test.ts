// openSession for ONNX and TF.js models, and the errors for a device or backend that cannot be used.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {openSession, backendFor} from '../../src/runtime/load.js'
import {ORT_GPU_FIX, selectDevice} from '../../src/runtime/devices.js'
import {loadTfjs, TFJS_GPU_FIX} from '../../src/runtime/tfjs-backend.js'
import {loadDataset, datasetFeeds} from '../../src/data/dataset.js'
import {fixture, DEFAULT_EVAL_SET} from '../../src/fixtures.js'
import {createRequire} from 'node:module'

const argmax = (p: Float32Array, off: number) => {
  let b = 0
  for (let c = 1; c < 10; c++) if (p[off + c]! > p[off + b]!) b = c
  return b
}

test('ONNX: the MNIST MLP opens with symbolic batch and classifies real digits', async () => {
  const s = await openSession(fixture('models', 'mnist-mlp.onnx'), {device: 'cpu'})
  try {
    assert.equal(s.backend, 'onnx')
    assert.equal(s.device, 'cpu')
    assert.deepEqual(s.inputs, [{name: 'input', dtype: 'float32', shape: ['batch', 784]}])
    assert.deepEqual(s.outputs, [{name: 'probabilities', dtype: 'float32', shape: ['batch', 10]}])
    const ds = loadDataset(DEFAULT_EVAL_SET)
    const out = await s.run(datasetFeeds(ds, s.inputs, 0, 200))
    const p = out.probabilities!.data as Float32Array
    assert.deepEqual(out.probabilities!.dims, [200, 10])
    let ok = 0
    for (let i = 0; i < 200; i++) {
      const sum = p.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0)
      assert.ok(Math.abs(sum - 1) < 1e-4, 'softmax rows sum to 1')
      if (argmax(p, i * 10) === ds.labels![i]) ok++
    }
    assert.ok(ok >= 180, `${ok}/200 correct`)
  } finally {
    await s.dispose()
  }
})

test('TF.js: the same MLP as a layers model agrees with the ONNX export', async () => {
  const ds = loadDataset(DEFAULT_EVAL_SET)
  const tfjs = await openSession(fixture('models', 'mnist-mlp-tfjs'))
  const ox = await openSession(fixture('models', 'mnist-mlp.onnx'), {device: 'cpu'})
  try {
    assert.equal(tfjs.backend, 'tfjs')
    assert.match(tfjs.engine, /tfjs/)
    assert.equal(tfjs.inputs.length, 1)
    assert.deepEqual(tfjs.inputs[0]!.shape, [null, 784])
    const a = await tfjs.run(datasetFeeds(ds, tfjs.inputs, 0, 32))
    const b = await ox.run(datasetFeeds(ds, ox.inputs, 0, 32))
    const pa = Object.values(a)[0]!.data as Float32Array
    const pb = b.probabilities!.data as Float32Array
    assert.equal(pa.length, pb.length)
    for (let i = 0; i < pa.length; i++) assert.ok(Math.abs(pa[i]! - pb[i]!) < 1e-4, `prob ${i}: tfjs ${pa[i]} vs onnx ${pb[i]}`)
  } finally {
    await tfjs.dispose()
    await ox.dispose()
  }
})

const gpuStarts = (await selectDevice('auto')).provider !== 'cpu'
test('ONNX --device gpu without a usable GPU provider fails with E_DEVICE naming the fix', {
  skip: gpuStarts ? 'a GPU execution provider starts on this machine' : false,
}, async () => {
  // No CUDA/TensorRT binaries here, and webgpu cannot start without an adapter.
  await assert.rejects(
    openSession(fixture('models', 'mnist-mlp.onnx'), {device: 'gpu'}),
    (e: Error & {code?: string}) => e.code === 'E_DEVICE' && e.message.includes(ORT_GPU_FIX) && /--device cpu/.test(e.message),
  )
})

const req = createRequire(import.meta.url)
const hasTfjsNodeGpu = (() => {
  try {
    req.resolve('@tensorflow/tfjs-node-gpu')
    return true
  } catch {
    return false
  }
})()

test('TF.js --device gpu without tfjs-node-gpu names the package to install', {
  skip: hasTfjsNodeGpu ? '@tensorflow/tfjs-node-gpu is installed' : false,
}, async () => {
  await assert.rejects(loadTfjs('gpu'), (e: Error & {code?: string}) => e.code === 'E_DEVICE' && e.message.includes(TFJS_GPU_FIX))
})

test('a backend that cannot run the format is a usage error that says which one can', async () => {
  assert.equal(backendFor('onnx'), 'onnx')
  assert.equal(backendFor('tfjs', 'auto'), 'tfjs')
  assert.throws(
    () => backendFor('onnx', 'tfjs'),
    (e: Error & {code?: string; exit?: number}) => e.code === 'E_USAGE' && e.exit === 2 && /--backend onnx/.test(e.message),
  )
  await assert.rejects(openSession(fixture('models', 'mnist-mlp-tfjs'), {backend: 'onnx'}), /--backend tfjs/)
})

const hasTfjsNode = (() => {
  try {
    req.resolve('@tensorflow/tfjs-node')
    return true
  } catch {
    return false
  }
})()

test('a SavedModel without tfjs-node says how to get it loaded', {skip: hasTfjsNode ? '@tensorflow/tfjs-node is installed' : false}, async () => {
  const {mkdtempSync, writeFileSync} = await import('node:fs')
  const {join} = await import('node:path')
  const {tmpdir} = await import('node:os')
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-sm-'))
  writeFileSync(join(dir, 'saved_model.pb'), '')
  await assert.rejects(openSession(dir, {device: 'cpu'}), (e: Error & {code?: string}) => e.code === 'E_BACKEND_MISSING' && /tfjs-node/.test(e.message))
})
