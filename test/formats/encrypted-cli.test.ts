/**
 * `tfsopt encrypt` / `decrypt` and the commands that read .enc models (inspect, quantize, prune), through
 * the compiled CLI: the key from TFSOPT_MODEL_KEY or --key-file, errors with their codes and exit codes,
 * outputs never over inputs and never left half-written, no plaintext beside an encrypted result.
 */
import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PACKAGE_ROOT, fixture} from '../../src/fixtures.js'
import {decodeModel} from '../../src/models/onnx/proto.js'
import {MAGIC, unseal} from '../../src/models/sealed/container.js'

const bin = join(PACKAGE_ROOT, 'bin', 'run.js')
const KEY = randomBytes(32)
const dir = mkdtempSync(join(tmpdir(), 'tfsopt-enc-cli-'))
const keyFile = join(dir, 'model.key')
const MLP = fixture('models', 'mnist-mlp.onnx')
const ENC = join(dir, 'mnist-mlp.onnx.enc')

/** `key`: the TFSOPT_MODEL_KEY to set; null: none in the environment. */
function cli(args: string[], key: string | null = KEY.toString('hex')) {
  const env = {...process.env}
  delete env.TFSOPT_MODEL_KEY
  if (key !== null) env.TFSOPT_MODEL_KEY = key
  return spawnSync(process.execPath, [bin, ...args], {cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 120_000, env})
}
const jsonOf = (r: ReturnType<typeof cli>) => JSON.parse(r.stdout)

before(() => {
  const out = join(PACKAGE_ROOT, 'dist', 'commands', 'encrypt.js')
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(PACKAGE_ROOT, 'src', 'commands', 'encrypt.ts')).mtimeMs)
    spawnSync(process.execPath, [join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', PACKAGE_ROOT], {stdio: 'inherit'})
  writeFileSync(keyFile, `${KEY.toString('base64')}\n`)
  const r = cli(['encrypt', MLP, '--out', ENC, '--json'])
  assert.equal(r.status, 0, r.stderr)
})

test('encrypt writes a container: magic, no plaintext model inside, the bundle decrypts to the exact input bytes', () => {
  const buf = readFileSync(ENC)
  assert.ok(buf.subarray(0, 8).equals(MAGIC))
  assert.throws(() => decodeModel(buf), /not a valid ONNX model|no graph/)
  const {header, files} = unseal(buf, KEY, ENC)
  assert.deepEqual(header, {format: 'onnx', main: 'mnist-mlp.onnx', name: 'mnist-mlp.onnx'})
  assert.equal(files.length, 1)
  assert.ok(Buffer.from(files[0]!.bytes).equals(readFileSync(MLP)))
})

test('inspect of the .enc reports what inspect of the plain model reports, plus the container', () => {
  const plain = jsonOf(cli(['inspect', MLP, '--json']))
  const r = cli(['inspect', ENC, '--json', '--key-file', keyFile], null)
  assert.equal(r.status, 0, r.stderr)
  const sealed = JSON.parse(r.stdout)
  for (const k of ['format', 'kind', 'inputs', 'outputs', 'ops', 'parameters', 'weightBytes', 'fileBytes', 'compute']) assert.deepEqual(sealed[k], plain[k], k)
  assert.equal(sealed.encrypted.container, ENC)
  assert.equal(sealed.encrypted.containerBytes, statSync(ENC).size)
  assert.match(sealed.encrypted.keyId, /^[0-9a-f]{16}$/)
})

test('quantize of the .enc writes an encrypted int8 model (same key) and no plaintext file anywhere beside it', () => {
  const out = join(dir, 'mlp-int8.onnx.enc')
  const before = new Set(readdirSync(tmpdir()))
  const r = cli(['quantize', ENC, '--out', out, '--json'])
  assert.equal(r.status, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  assert.ok(report.size.after.bytes < report.size.before.bytes / 3, JSON.stringify(report.size))
  const {files} = unseal(readFileSync(out), KEY, out)
  const ops = decodeModel(files[0]!.bytes).graph!.node.map((n) => n.opType)
  assert.ok(ops.includes('MatMulInteger'), ops.join(','))
  assert.deepEqual(
    readdirSync(dir).filter((f) => !f.endsWith('.enc') && f !== 'model.key'),
    [],
  )
  const added = readdirSync(tmpdir()).filter((f) => !before.has(f) && /tfsopt-q-|tfsopt-memory/.test(f))
  assert.deepEqual(added, [], 'no scratch directory on disk for an encrypted model')
  // the result is a .enc that inspect reads with the key
  assert.equal(cli(['inspect', out, '--json', '--no-compute']).status, 0)
})

test('quantize of a .enc refuses a plain --out name (the result would be encrypted) and --out over its input even with --force', () => {
  const plain = cli(['quantize', ENC, '--out', join(dir, 'q.onnx'), '--json'])
  assert.equal(plain.status, 2, plain.stderr)
  assert.equal(jsonOf(plain).error.code, 'E_USAGE')
  assert.match(jsonOf(plain).error.message, /name --out with \.enc/)
  const over = cli(['quantize', ENC, '--out', ENC, '--force', '--json'])
  assert.equal(jsonOf(over).error.code, 'E_EXISTS')
  assert.ok(readFileSync(ENC).subarray(0, 8).equals(MAGIC))
})

test('prune of the .enc writes an encrypted pruned model', () => {
  const out = join(dir, 'mlp-pruned.onnx.enc')
  const r = cli(['prune', ENC, '--out', out, '--sparsity', '0.5', '--json'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(unseal(readFileSync(out), KEY, out).files.length, 1)
})

test('decrypt restores the exact bytes; a TF.js directory round-trips as a directory', () => {
  const back = join(dir, 'back.onnx')
  assert.equal(cli(['decrypt', ENC, '--out', back]).status, 0)
  assert.ok(readFileSync(back).equals(readFileSync(MLP)))
  const tfjsEnc = join(dir, 'cnn.enc')
  assert.equal(cli(['encrypt', fixture('models', 'mnist-cnn-tfjs'), '--out', tfjsEnc]).status, 0)
  const tfjsBack = join(dir, 'cnn-back')
  assert.equal(cli(['decrypt', tfjsEnc, '--out', tfjsBack]).status, 0)
  for (const f of readdirSync(fixture('models', 'mnist-cnn-tfjs')))
    assert.ok(readFileSync(join(tfjsBack, f)).equals(readFileSync(fixture('models', 'mnist-cnn-tfjs', f))), f)
})

test('a wrong key: E_WRONG_KEY, exit 1, and it names both key ids', () => {
  const r = cli(['inspect', ENC, '--json'], randomBytes(32).toString('hex'))
  assert.equal(r.status, 1)
  assert.equal(jsonOf(r).error.code, 'E_WRONG_KEY')
  assert.match(jsonOf(r).error.message, /different key/)
})

test('a tampered byte, in the ciphertext or in the clear header: E_TAMPERED, exit 1', () => {
  const buf = readFileSync(ENC)
  const body = Buffer.from(buf)
  body[body.length - 5000]! ^= 0x80
  const bodyFile = join(dir, 'tampered-body.enc')
  writeFileSync(bodyFile, body)
  // the header JSON is authenticated too: change one letter of the file name hint
  const head = Buffer.from(buf)
  const at = head.indexOf('mnist-mlp', 36)
  head[at] = 'M'.charCodeAt(0)
  const headFile = join(dir, 'tampered-head.enc')
  writeFileSync(headFile, head)
  for (const f of [bodyFile, headFile]) {
    const r = cli(['inspect', f, '--json'])
    assert.equal(r.status, 1, f)
    assert.equal(jsonOf(r).error.code, 'E_TAMPERED', f)
  }
  const truncated = join(dir, 'truncated.enc')
  writeFileSync(truncated, buf.subarray(0, 30))
  assert.equal(jsonOf(cli(['inspect', truncated, '--json'])).error.code, 'E_TAMPERED')
})

test('a missing key and a key of the wrong length: E_KEY, exit 2', () => {
  const none = cli(['inspect', ENC, '--json'], null)
  assert.equal(none.status, 2)
  assert.equal(jsonOf(none).error.code, 'E_KEY')
  assert.match(jsonOf(none).error.message, /TFSOPT_MODEL_KEY/)
  const short = cli(['inspect', ENC, '--json'], randomBytes(31).toString('hex'))
  assert.equal(short.status, 2)
  assert.match(jsonOf(short).error.message, /is 31 bytes; AES-256 needs exactly 32/)
  const junk = cli(['encrypt', MLP, '--out', join(dir, 'never.enc'), '--json'], 'not a key!')
  assert.equal(jsonOf(junk).error.code, 'E_KEY')
  assert.equal(existsSync(join(dir, 'never.enc')), false)
  const missingFile = cli(['inspect', ENC, '--json', '--key-file', join(dir, 'nope.key')])
  assert.equal(jsonOf(missingFile).error.code, 'E_KEY')
})

test('encrypt never writes over its input and never leaves a partial output', () => {
  const src = join(dir, 'copy.onnx')
  writeFileSync(src, readFileSync(MLP))
  const over = cli(['encrypt', src, '--out', src, '--force', '--json'])
  assert.equal(jsonOf(over).error.code, 'E_EXISTS')
  assert.ok(readFileSync(src).equals(readFileSync(MLP)))
  const exists = cli(['encrypt', src, '--out', ENC, '--json'])
  assert.equal(jsonOf(exists).error.code, 'E_EXISTS')
  // a model that fails to encrypt (not a model): nothing at --out, no temporary file left
  const junkModel = join(dir, 'junk.onnx')
  writeFileSync(junkModel, 'not onnx')
  const bad = cli(['encrypt', junkModel, '--out', join(dir, 'junk.onnx.enc'), '--json'])
  assert.equal(bad.status, 1)
  assert.equal(existsSync(join(dir, 'junk.onnx.enc')), false)
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('.tfsopt-tmp-')),
    [],
  )
})
