// GPU-aware serving, checked on CPU: the device chosen is in the ready summary, GPU-only metrics are
// absent from a CPU server's scrape, the GPU metrics render (and go) as Prometheus series, and GPU
// batching defaults apply only on a GPU provider and never override a flag.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Registry} from 'prom-client'
import {serve, get} from './helpers.js'
import {fixture} from '../../src/fixtures.js'
import {GpuMetrics} from '../../src/server/gpu-metrics.js'
import {BATCHING_DEFAULTS, GPU_BATCHING_DEFAULTS, resolveBatching} from '../../src/server/batching-config.js'
import {defaultThreads} from '../../src/server/index.js'
import type {TensorInfo} from '../../src/models/dtypes.js'

test('a CPU server (--device auto here) says what it chose and exports no GPU metrics', async (t) => {
  const srv = await serve({models: [{name: 'mlp', path: fixture('models', 'mnist-mlp.onnx')}], device: 'auto', warmup: 1})
  try {
    if (srv.device.provider !== 'cpu') return t.skip(`${srv.device.provider} started here`)
    assert.equal(srv.models()[0]!.device, 'cpu')
    assert.deepEqual(
      srv.device.attempts.map((a) => a.provider),
      ['tensorrt', 'cuda', 'webgpu', 'cpu'],
    )
    // CPU batching defaults, not the GPU ones.
    assert.equal(srv.models()[0]!.batching.maxBatchSize, BATCHING_DEFAULTS.maxBatchSize)
    const m = await get(`${srv.url}/monitoring/prometheus/metrics`)
    assert.equal(m.status, 200)
    assert.match(m.text, /^tfsopt_workers\{/m, 'the scrape is a real one')
    assert.doesNotMatch(m.text, /^tfsopt_(device|gpu)_/m)
  } finally {
    await srv.close()
  }
})

test('GPU metrics: placement, copy time and share per version, removed with the version', async () => {
  const reg = new Registry()
  const g = new GpuMetrics(reg)
  g.recordVersion('det', '1', {
    nodes: 5,
    byProvider: {CUDAExecutionProvider: 4, CPUExecutionProvider: 1},
    cpuFallback: [{node: 'shape', op: 'Shape'}],
    copies: {hostToDevice: 1, deviceToHost: 1, hostToDeviceSeconds: 0.0002, deviceToHostSeconds: 0.0003},
    runSeconds: 0.002,
    runs: 1,
  })
  const text = await reg.metrics()
  assert.match(text, /^tfsopt_device_nodes\{model="det",version="1",provider="CUDAExecutionProvider"\} 4$/m)
  assert.match(text, /^tfsopt_device_nodes\{model="det",version="1",provider="CPUExecutionProvider"\} 1$/m)
  assert.match(text, /^tfsopt_device_copy_seconds\{model="det",version="1",direction="host_to_device"\} 0.0002$/m)
  assert.match(text, /^tfsopt_device_copy_share\{model="det",version="1"\} 0.25$/m)
  g.removeVersion('det', '1')
  assert.doesNotMatch(await reg.metrics(), /model="det"/)
})

test('GPU batching defaults apply only when asked for by the provider, and flags still win', () => {
  const io: TensorInfo[] = [{name: 'x', dtype: 'float32', shape: ['batch', 4]}]
  const gpu = resolveBatching('m', {}, io, io, GPU_BATCHING_DEFAULTS)
  assert.deepEqual([gpu.maxBatchSize, gpu.batchTimeoutMicros], [32, 1000])
  const cpu = resolveBatching('m', {}, io, io)
  assert.deepEqual([cpu.maxBatchSize, cpu.batchTimeoutMicros], [64, 0])
  const flagged = resolveBatching('m', {maxBatchSize: 8, batchTimeoutMicros: 0}, io, io, GPU_BATCHING_DEFAULTS)
  assert.deepEqual([flagged.maxBatchSize, flagged.batchTimeoutMicros], [8, 0])
  // One worker per GPU by default; an explicit --workers wins.
  assert.equal(defaultThreads(undefined, undefined, true).workers, 1)
  assert.equal(defaultThreads(3, undefined, true).workers, 3)
})
