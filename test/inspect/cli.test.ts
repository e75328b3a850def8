// The CLI end to end through the compiled bin: `tfsopt inspect ... --json`, errors, and --help.
import {test, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, statSync, mkdtempSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tmpdir} from 'node:os'
import {PACKAGE_ROOT, fixture} from '../../src/fixtures.js'

const bin = join(PACKAGE_ROOT, 'bin', 'run.js')
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], {cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 60_000})

before(() => {
  // `npm test` builds first; when run alone, build if dist/ is missing or older than the command.
  const out = join(PACKAGE_ROOT, 'dist', 'commands', 'inspect.js')
  const src = join(PACKAGE_ROOT, 'src', 'commands', 'inspect.ts')
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs) {
    spawnSync(process.execPath, [join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', PACKAGE_ROOT], {stdio: 'inherit'})
  }
  assert.ok(existsSync(out), 'npm run build produced dist/commands/inspect.js')
})

test('inspect --json prints the report on stdout, exit 0', () => {
  const r = cli('inspect', fixture('models', 'mnist-cnn.onnx'), '--json')
  assert.equal(r.status, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  assert.equal(report.format, 'onnx')
  assert.deepEqual(report.inputs[0].shape, ['batch', 1, 28, 28])
  assert.equal(report.compute.macs, 26 * 26 * 8 * 9 + 11 * 11 * 16 * 8 * 9 + 400 * 64 + 64 * 10)
  assert.equal(report.compute.flops, 2 * report.compute.macs)
})

test('inspect without --json: tables on stderr, nothing on stdout', () => {
  const r = cli('inspect', fixture('models', 'mnist-mlp-tfjs'))
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, '')
  assert.match(r.stderr, /tfjs-layers/)
  assert.match(r.stderr, /MACs/)
  assert.match(r.stderr, /Dense/)
})

test('inspect --input-shape reaches the estimate', () => {
  const r = cli('inspect', fixture('models', 'mnist-mlp.onnx'), '--input-shape', 'input:1x784', '--json')
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout).compute.inputShapes, {input: [1, 784]})
  const bad = cli('inspect', fixture('models', 'mnist-mlp.onnx'), '--input-shape', 'x:1xfoo')
  assert.equal(bad.status, 2)
})

test('a corrupt model: exit 1 and a single error line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-cli-'))
  const p = join(dir, 'corrupt.onnx')
  writeFileSync(p, Buffer.from('\u0008\u0001garbage that is not an onnx model'))
  const r = cli('inspect', p)
  assert.equal(r.status, 1)
  assert.equal(r.stdout, '')
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, r.stderr)
  assert.match(lines[0]!, /^error \[E_CORRUPT\]: .*corrupt\.onnx/)
  const j = cli('inspect', p, '--json')
  assert.equal(j.status, 1)
  assert.equal(JSON.parse(j.stdout).error.code, 'E_CORRUPT')
  const missing = cli('inspect', join(dir, 'nope.onnx'))
  assert.equal(missing.status, 1)
  assert.match(missing.stderr, /E_NOT_FOUND/)
})

test('tfsopt --help lists the commands and exits 0', () => {
  const r = cli('--help')
  assert.equal(r.status, 0, r.stderr)
  const text = r.stdout + r.stderr
  assert.match(text, /COMMANDS/)
  assert.match(text, /inspect\s+Describe a model/)
})
