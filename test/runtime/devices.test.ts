// Device selection: the pure decision for every request, the real probe on this machine (no GPU here:
// every GPU provider must be reported with its reason), the probe's timeout, placement from a real
// onnxruntime profile, nvidia-smi parsing.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {decideDevice, probeProviders, selectDevice, GPU_PROVIDERS, type GpuProvider, type ProbeResult} from '../../src/runtime/devices.js'
import {OnnxSession} from '../../src/runtime/onnx-session.js'
import {syntheticFeeds} from '../../src/runtime/synthetic-feeds.js'
import {placementFromProfile} from '../../src/runtime/placement.js'
import {parseNvidiaSmi} from '../../src/runtime/nvidia-smi.js'
import {fixture} from '../../src/fixtures.js'

const none = () => undefined
const missing = (p: GpuProvider) => (p === 'webgpu' ? undefined : `${p} library absent`)
const fail = (provider: GpuProvider, error = 'boom'): ProbeResult => ({provider, ok: false, error})

test('auto falls back to cpu and lists why each GPU provider was not used', () => {
  const c = decideDevice('auto', missing, [fail('webgpu', 'Failed to get a WebGPU adapter: No supported adapters')])
  assert.equal(c.provider, 'cpu')
  assert.deepEqual(c.executionProviders, ['cpu'])
  assert.deepEqual(
    c.attempts.map((a) => [a.provider, a.status]),
    [
      ['tensorrt', 'not-installed'],
      ['cuda', 'not-installed'],
      ['webgpu', 'failed'],
      ['cpu', 'chosen'],
    ],
  )
  assert.match(c.attempts[2]!.reason, /No supported adapters/)
  assert.match(c.note, /tensorrt not installed: tensorrt library absent; cuda not installed/)
})

test('auto takes the first provider that starts, in the order TensorRT → CUDA → WebGPU', () => {
  const c = decideDevice('auto', none, [fail('tensorrt', 'libnvinfer.so.10: cannot open'), {provider: 'cuda', ok: true, ms: 900}])
  assert.equal(c.provider, 'cuda')
  assert.deepEqual(c.executionProviders, ['cuda', 'cpu'])
  assert.deepEqual(
    c.attempts.map((a) => a.status),
    ['failed', 'chosen', 'not-tried'],
  )
  assert.equal(decideDevice('auto', none, [{provider: 'tensorrt', ok: true}]).executionProviders.join(','), 'tensorrt,cuda,cpu')
})

test('gpu and a named provider fail (E_DEVICE, exit 1) with the list instead of falling back', () => {
  assert.throws(
    () => decideDevice('gpu', missing, [fail('webgpu', 'no adapter')]),
    (e: Error & {code?: string; exit?: number}) =>
      e.code === 'E_DEVICE' &&
      e.exit === 1 &&
      /tensorrt not installed/.test(e.message) &&
      /cuda not installed/.test(e.message) &&
      /webgpu failed: no adapter/.test(e.message),
  )
  assert.throws(
    () => decideDevice('cuda', missing, []),
    (e: Error & {code?: string}) => e.code === 'E_DEVICE' && /cuda not installed/.test(e.message) && !/webgpu/.test(e.message),
  )
  const cpu = decideDevice('cpu', () => assert.fail('cpu never looks at GPU providers'), [])
  assert.equal(cpu.provider, 'cpu')
  assert.deepEqual(cpu.attempts, [])
})

test('on this machine auto reports every GPU provider with a reason (skipped where a GPU provider starts)', async (t) => {
  const c = await selectDevice('auto')
  if (c.provider !== 'cpu') return t.skip(`${c.provider} started here`)
  assert.deepEqual(
    c.attempts.slice(0, 3).map((a) => a.provider),
    [...GPU_PROVIDERS],
  )
  for (const a of c.attempts.slice(0, 3)) {
    assert.ok(['not-installed', 'failed', 'timed-out'].includes(a.status), `${a.provider}: ${a.status}`)
    assert.ok(a.reason.length > 10, `${a.provider} says why: ${a.reason}`)
  }
  assert.equal(c.attempts[3]?.status, 'chosen')
})

test('a provider that does not start in time is reported as timed out, and the probe returns', async () => {
  const t0 = Date.now()
  const [r] = await probeProviders(['webgpu'], {timeoutMs: 1})
  assert.equal(r?.provider, 'webgpu')
  assert.equal(r?.ok, false)
  assert.equal(r?.timedOut, true)
  assert.match(r!.error!, /did not start within 1 ms/)
  assert.ok(Date.now() - t0 < 5000)
})

test("placement from a real onnxruntime profile: on CPU every node is CPUExecutionProvider's, no copies", async () => {
  const s = await OnnxSession.load(fixture('models', 'mnist-cnn.onnx'), {device: 'cpu', profile: true})
  try {
    const p = await s.profileOnce(syntheticFeeds(s.inputs))
    assert.ok(p.nodes >= 5, `${p.nodes} nodes`)
    assert.deepEqual(Object.keys(p.byProvider), ['CPUExecutionProvider'])
    assert.equal(p.byProvider.CPUExecutionProvider, p.nodes)
    assert.deepEqual(p.cpuFallback, [])
    assert.equal(p.copies.hostToDevice + p.copies.deviceToHost, 0)
    assert.equal(p.runs, 1)
    assert.ok(p.runSeconds > 0)
    // The profiler stopped: the session keeps running, and a second profile is refused.
    await s.run(syntheticFeeds(s.inputs, 3))
    await assert.rejects(s.profileOnce(syntheticFeeds(s.inputs)), /profile/)
  } finally {
    await s.dispose()
  }
})

test('placement with a GPU provider: CPU nodes are the fallback, Memcpy nodes are the copies (onnxruntime trace format)', () => {
  const node = (name: string, op: string, provider: string, dur: number) => ({cat: 'Node', name: `${name}_kernel_time`, dur, args: {op_name: op, provider}})
  const events = [
    {cat: 'Session', name: 'model_run', dur: 1000},
    node('Memcpy', 'MemcpyFromHost', 'CUDAExecutionProvider', 100),
    node('conv1', 'Conv', 'CUDAExecutionProvider', 500),
    node('shape', 'Shape', 'CPUExecutionProvider', 5),
    node('Memcpy_token_1', 'MemcpyToHost', 'CUDAExecutionProvider', 150),
    {cat: 'Node', name: 'conv1_fence_before', dur: 0, args: {op_name: 'Conv'}},
  ]
  const p = placementFromProfile(events, 'CUDAExecutionProvider')
  assert.equal(p.nodes, 4)
  assert.deepEqual(p.byProvider, {CUDAExecutionProvider: 3, CPUExecutionProvider: 1})
  assert.deepEqual(p.cpuFallback, [{node: 'shape', op: 'Shape'}])
  assert.deepEqual(p.copies, {hostToDevice: 1, deviceToHost: 1, hostToDeviceSeconds: 100e-6, deviceToHostSeconds: 150e-6})
  assert.equal(p.runSeconds, 1000e-6)
})

test("nvidia-smi's CSV (MiB, percent) becomes bytes and a ratio; rows with [N/A] are skipped", () => {
  const rows = parseNvidiaSmi('0, NVIDIA H100 80GB HBM3, 1234, 81559, 37\n1, NVIDIA T4, [N/A], 15360, 0\n\n')
  assert.deepEqual(rows, [{index: 0, name: 'NVIDIA H100 80GB HBM3', memoryUsedBytes: 1234 * 1048576, memoryTotalBytes: 81559 * 1048576, utilization: 0.37}])
})
