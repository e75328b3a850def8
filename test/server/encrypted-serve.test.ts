/**
 * Encrypted models served for real: `tfsopt encrypt`'s container of the MNIST fixtures, served from the
 * .enc by a real server (workers decrypt in memory), answers exactly what the plain model answers over
 * HTTP; a wrong key and a tampered container stop the server with their own error codes.
 */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fixture} from '../../src/fixtures.js'
import {TfsoptError} from '../../src/errors.js'
import {encryptModel} from '../../src/models/sealed/seal-files.js'
import {KEY_ENV, useKeyFile} from '../../src/models/sealed/key.js'
import {floats, post, serve, tmp} from './helpers.js'

const dir = tmp('tfsopt-enc-serve-')
const key = randomBytes(32).toString('hex')
const saved = process.env[KEY_ENV]
const MLP = fixture('models', 'mnist-mlp.onnx')
const CNN_TFJS = fixture('models', 'mnist-cnn-tfjs')
let mlpEnc: string
let cnnEnc: string

before(() => {
  process.env[KEY_ENV] = key
  useKeyFile(undefined)
  mlpEnc = join(dir, 'mnist-mlp.onnx.enc')
  cnnEnc = join(dir, 'mnist-cnn.enc')
  encryptModel({input: MLP, out: mlpEnc})
  encryptModel({input: CNN_TFJS, out: cnnEnc})
})

after(() => {
  if (saved === undefined) delete process.env[KEY_ENV]
  else process.env[KEY_ENV] = saved
})

async function predictions(path: string, instances: unknown[], backend?: 'tfjs'): Promise<number[][]> {
  const srv = await serve({models: [{name: 'm', path}], ...(backend ? {backend} : {})})
  try {
    const r = await post(`${srv.url}/v1/models/m:predict`, {instances})
    assert.equal(r.status, 200, r.text)
    return r.json.predictions as number[][]
  } finally {
    await srv.close()
  }
}

test('the MNIST MLP served from its .enc answers exactly what the plain model answers', async () => {
  const rows = [floats(784, 1), floats(784, 2), floats(784, 3)]
  const plain = await predictions(MLP, rows)
  const sealed = await predictions(mlpEnc, rows)
  assert.equal(sealed.length, 3)
  assert.deepEqual(sealed, plain)
  // nothing decrypted was left beside the container
  assert.deepEqual(readdirSync(dir).sort(), ['mnist-cnn.enc', 'mnist-mlp.onnx.enc'])
})

test('a TF.js model (model.json + shard) served from one .enc answers what the plain directory answers', async () => {
  const rows = [Array.from({length: 28}, (_, i) => Array.from({length: 28}, (_, j) => [((i * 28 + j) % 17) / 17]))]
  const plain = await predictions(CNN_TFJS, rows, 'tfjs')
  const sealed = await predictions(cnnEnc, rows, 'tfjs')
  assert.deepEqual(sealed, plain)
})

async function startFails(path: string): Promise<TfsoptError> {
  try {
    const srv = await serve({models: [{name: 'm', path}]})
    await srv.close()
  } catch (err) {
    assert.ok(err instanceof TfsoptError, String(err))
    return err
  }
  assert.fail('the server started')
}

test('a wrong key stops the server with E_WRONG_KEY, naming both key ids', async () => {
  process.env[KEY_ENV] = randomBytes(32).toString('base64')
  try {
    const err = await startFails(mlpEnc)
    assert.equal(err.code, 'E_WRONG_KEY')
    assert.equal(err.exit, 1)
    assert.match(err.message, /encrypted with a different key \(key id [0-9a-f]{16}, the key given has [0-9a-f]{16}\)/)
  } finally {
    process.env[KEY_ENV] = key
  }
})

test('one flipped ciphertext byte stops the server with E_TAMPERED (found by the worker that decrypts)', async () => {
  const bad = join(dir, 'tampered.onnx.enc')
  const bytes = readFileSync(mlpEnc)
  bytes[bytes.length - 1000]! ^= 0x01
  writeFileSync(bad, bytes)
  try {
    const err = await startFails(bad)
    assert.equal(err.code, 'E_TAMPERED')
    assert.match(err.message, /failed authentication/)
  } finally {
    writeFileSync(bad, '')
  }
})

test('no key at all stops the server with E_KEY (exit 2) saying where a key is looked for', async () => {
  delete process.env[KEY_ENV]
  try {
    const err = await startFails(mlpEnc)
    assert.equal(err.code, 'E_KEY')
    assert.equal(err.exit, 2)
    assert.match(err.message, /TFSOPT_MODEL_KEY/)
    assert.match(err.message, /--key-file/)
  } finally {
    process.env[KEY_ENV] = key
  }
})
