// --device end to end through the compiled CLI: inspect reports the provider chosen and the placement,
// `--device gpu` exits 1 with every provider's reason, webgpu fails with a clear message (and does not
// hang), serve refuses --device gpu before starting workers. On a machine where a GPU provider starts,
// the failure cases are skipped.
import {test, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {PACKAGE_ROOT, fixture} from '../../src/fixtures.js'
import {selectDevice} from '../../src/runtime/devices.js'

const bin = join(PACKAGE_ROOT, 'bin', 'run.js')
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], {cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 90_000})
const gpu = (await selectDevice('auto')).provider
const noGpu = gpu === 'cpu' ? false : `${gpu} starts on this machine`

before(() => {
  const out = join(PACKAGE_ROOT, 'dist', 'runtime', 'devices.js')
  if (!existsSync(out) || statSync(out).mtimeMs < statSync(join(PACKAGE_ROOT, 'src', 'runtime', 'devices.ts')).mtimeMs) {
    spawnSync(process.execPath, [join(PACKAGE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', PACKAGE_ROOT], {stdio: 'inherit'})
  }
})

test('inspect --device auto --json: the provider chosen, every other one with its reason, and where the nodes ran', () => {
  const r = cli('inspect', fixture('models', 'mnist-cnn.onnx'), '--device', 'auto', '--json')
  assert.equal(r.status, 0, r.stderr)
  const {runtime, nodeCount} = JSON.parse(r.stdout)
  assert.equal(runtime.device, gpu)
  assert.deepEqual(runtime.attempts.map((a: {provider: string}) => a.provider).slice(0, 3), ['tensorrt', 'cuda', 'webgpu'])
  const counts = Object.values(runtime.placement.byProvider) as number[]
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    runtime.placement.nodes,
  )
  assert.ok(runtime.placement.nodes > 0 && runtime.placement.nodes <= nodeCount, `${runtime.placement.nodes} of ${nodeCount} nodes after fusion`)
  if (gpu === 'cpu') {
    assert.deepEqual(Object.keys(runtime.placement.byProvider), ['CPUExecutionProvider'])
    assert.equal(runtime.attempts[3].status, 'chosen')
  }
  const human = cli('inspect', fixture('models', 'mnist-cnn.onnx'), '--device', 'cpu')
  assert.equal(human.status, 0, human.stderr)
  assert.match(human.stderr, /Placement\W+\d+ nodes: CPUExecutionProvider \d+/)
})

test('--device gpu exits 1 (E_DEVICE) listing why each GPU provider did not start', {skip: noGpu}, () => {
  const r = cli('inspect', fixture('models', 'mnist-mlp.onnx'), '--device', 'gpu', '--no-compute')
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /error \[E_DEVICE\]: --device gpu: no GPU execution provider started/)
  for (const p of ['tensorrt', 'cuda', 'webgpu']) assert.match(r.stderr, new RegExp(`${p} (not installed|failed|timed out): `))
  const j = cli('inspect', fixture('models', 'mnist-mlp.onnx'), '--device', 'gpu', '--json')
  assert.equal(j.status, 1)
  assert.equal(JSON.parse(j.stdout).error.code, 'E_DEVICE')
})

test('--device webgpu fails with a clear message, and a probe that hangs is cut off by its timeout', {skip: noGpu}, () => {
  const r = cli('inspect', fixture('models', 'mnist-mlp.onnx'), '--device', 'webgpu', '--no-compute')
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /--device webgpu: no GPU execution provider started: webgpu (failed|timed out): .*Vulkan/)
  assert.doesNotMatch(r.stderr, /cuda|tensorrt/, 'a named provider is the only one tried')
  const t0 = Date.now()
  const slow = spawnSync(process.execPath, [bin, 'inspect', fixture('models', 'mnist-mlp.onnx'), '--device', 'webgpu'], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    timeout: 90_000,
    env: {...process.env, TFSOPT_DEVICE_PROBE_TIMEOUT_MS: '5'},
  })
  assert.equal(slow.status, 1, slow.stderr)
  assert.match(slow.stderr, /webgpu timed out: did not start within 5 ms/)
  assert.ok(Date.now() - t0 < 60_000)
})

test('serve --device gpu refuses before starting (exit 1), bench --device with --url is a usage error (exit 2)', {skip: noGpu}, () => {
  const r = cli('serve', '--device', 'gpu', '--port', '0')
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /E_DEVICE.*--device gpu/)
  const b = cli('bench', '--url', 'http://127.0.0.1:1', '--model-name', 'm', '--concurrency', '1', '--device', 'cpu')
  assert.equal(b.status, 2, b.stderr)
  assert.match(b.stderr, /leave out --device/)
})
