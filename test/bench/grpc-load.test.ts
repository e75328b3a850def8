/** The gRPC load generator against a real server: closed and open loop, errors by kind, shared server metrics. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {GrpcLoad} from '../../src/bench/grpc-load.ts'
import {predictRequestBytes} from '../../src/bench/grpc-requests.ts'
import {measurePoint} from '../../src/bench/measure-point.ts'
import {scaleModel, serve, tmp} from '../server/helpers.ts'

const quick = {warmupS: 0.2, windowS: 0.4, minWindows: 3, maxWindows: 4, stabilityPct: 50}
const model = scaleModel(join(tmp(), 'scale.onnx'), 2)
const requests = (name = 'scale', clientBatch = 1) => {
  const bytes = predictRequestBytes(
    name,
    {x: {dtype: 'float32', dims: [clientBatch, 4], data: new Float32Array(clientBatch * 4).fill(1)}},
    {tensorContent: true},
  )
  return {next: () => bytes, clientBatch}
}

test("closed and open loop over gRPC: latency ≥ the service time, counted in the server's own metrics", async () => {
  const srv = await serve({models: [{name: 'scale', path: model}], injectLatencyMs: 10, grpcPort: 0})
  try {
    const target = `127.0.0.1:${srv.grpcPort}`
    const c = await measurePoint(new GrpcLoad({mode: 'closed', target, concurrency: 4, requests: requests('scale', 2)}), {...quick, metricsBase: srv.url})
    assert.equal(c.errors.total, 0)
    assert.ok(c.latency.minMs >= 9, `min ${c.latency.minMs}`)
    assert.ok(Math.abs(c.inferencesPerSec / c.throughput - 2) < 1e-9)
    assert.ok((c.server?.requestsByStatus?.['200'] ?? 0) > 0, 'gRPC requests show in the scraped server metrics')
    const o = await measurePoint(new GrpcLoad({mode: 'open', target, rate: 40, arrival: 'constant', requests: requests()}), quick)
    assert.equal(o.errors.total, 0)
    assert.ok(o.throughput > 20 && o.throughput < 70, `throughput ${o.throughput}`)
    assert.ok(o.latency.p50Ms >= 9, `p50 ${o.latency.p50Ms}`)
  } finally {
    await srv.close()
  }
})

test('gRPC errors are counted by kind: a refused call is non-2xx, a dead server a connection error', async () => {
  const srv = await serve({models: [{name: 'scale', path: model}], grpcPort: 0})
  try {
    const m = await measurePoint(new GrpcLoad({mode: 'closed', target: `127.0.0.1:${srv.grpcPort}`, concurrency: 2, requests: requests('nope')}), {
      ...quick,
      maxWindows: 3,
    })
    assert.ok(m.errors.non2xx > 0)
    assert.equal(m.throughput, 0)
  } finally {
    await srv.close()
  }
  const m = await measurePoint(new GrpcLoad({mode: 'open', target: `127.0.0.1:${srv.grpcPort}`, rate: 50, arrival: 'constant', requests: requests()}), {
    ...quick,
    maxWindows: 3,
  })
  assert.ok(m.errors.connection > 0, JSON.stringify(m.errors))
  assert.match(m.failed ?? '', /connection errors/)
})
