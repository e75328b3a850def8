// tfjs-node(-gpu) installed but failing to load (wrong CUDA, missing libtensorflow) must be reported with the
// package and its error, not as "not installed". The packages here are real folders in a temporary
// node_modules whose entry point throws on import the way a broken native binding does.
import {test, after} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {importOptional, pickTfjs, TFJS_GPU_FIX, TFJS_GPU_LOAD_FIX} from '../../src/runtime/tfjs-backend.js'

const CUDA_ERROR = 'libcudart.so.11.0: cannot open shared object file: No such file or directory'
const LIBTF_ERROR = 'libtensorflow.so.2: cannot open shared object file: No such file or directory'

const root = mkdtempSync(join(tmpdir(), 'tfsopt-tfjs-load-'))
after(() => rmSync(root, {recursive: true, force: true}))

/** A project folder whose node_modules holds `packages` (name → the error its entry point throws). */
function project(name: string, packages: Record<string, string>): URL {
  const dir = join(root, name)
  for (const [pkg, error] of Object.entries(packages)) {
    const at = join(dir, 'node_modules', ...pkg.split('/'))
    mkdirSync(at, {recursive: true})
    writeFileSync(join(at, 'package.json'), JSON.stringify({name: pkg, version: '4.22.0', main: 'dist/index.js'}))
    mkdirSync(join(at, 'dist'))
    writeFileSync(join(at, 'dist', 'index.js'), `throw new Error(${JSON.stringify(`${error}\n    at Object.<anonymous> (binding.js:1:1)`)})\n`)
  }
  mkdirSync(dir, {recursive: true})
  return pathToFileURL(join(dir, 'entry.js'))
}

const broken = project('broken', {'@tensorflow/tfjs-node-gpu': CUDA_ERROR, '@tensorflow/tfjs-node': LIBTF_ERROR})
const brokenGpuOnly = project('broken-gpu', {'@tensorflow/tfjs-node-gpu': CUDA_ERROR})
const empty = project('empty', {})

test('importOptional tells an absent package from one that fails to load, keeping the first line of its error', async () => {
  assert.deepEqual(await importOptional('@tensorflow/tfjs-node-gpu', empty), {loaded: false, installed: false})
  assert.deepEqual(await importOptional('@tensorflow/tfjs-node-gpu', broken), {loaded: false, installed: true, error: CUDA_ERROR})
})

test('--device gpu with tfjs-node-gpu installed but failing: E_DEVICE names the package and carries its error', async () => {
  await assert.rejects(pickTfjs('gpu', brokenGpuOnly), (e: Error & {code?: string}) => {
    assert.equal(e.code, 'E_DEVICE')
    assert.match(e.message, /@tensorflow\/tfjs-node-gpu is installed but failed to load/)
    assert.ok(e.message.includes(CUDA_ERROR), e.message)
    assert.ok(e.message.includes(TFJS_GPU_LOAD_FIX), e.message)
    assert.doesNotMatch(e.message, /not installed/)
    return true
  })
})

test('--device gpu with tfjs-node-gpu absent still says "not installed" and how to install it', async () => {
  await assert.rejects(pickTfjs('gpu', empty), (e: Error & {code?: string}) => {
    assert.equal(e.code, 'E_DEVICE')
    assert.match(e.message, /@tensorflow\/tfjs-node-gpu is not installed/)
    assert.ok(e.message.includes(TFJS_GPU_FIX), e.message)
    return true
  })
})

test('auto with both tfjs-node packages broken falls back to @tensorflow/tfjs and its note names both failures', async () => {
  const b = await pickTfjs('auto', broken)
  assert.equal(b.pkg, '@tensorflow/tfjs')
  assert.equal(b.device, 'cpu')
  assert.ok(['wasm', 'cpu'].includes(b.backend), b.backend)
  assert.ok(b.note.includes(`@tensorflow/tfjs-node-gpu is installed but failed to load (${CUDA_ERROR})`), b.note)
  assert.ok(b.note.includes(`@tensorflow/tfjs-node is installed but failed to load (${LIBTF_ERROR})`), b.note)
  assert.doesNotMatch(b.note, /not installed/)
  // The fallback really runs: a small matmul on the chosen backend.
  const y = b.tf.matMul(b.tf.tensor2d([1, 2, 3, 4], [2, 2]), b.tf.tensor2d([5, 6, 7, 8], [2, 2]))
  assert.deepEqual(Array.from(await y.data()), [19, 22, 43, 50])
})
