import {test} from 'node:test'
import assert from 'node:assert/strict'
import {startFake} from './fake-server.ts'
import {ClosedLoop} from '../../src/bench/closed-loop.ts'
import {OpenLoop} from '../../src/bench/open-loop.ts'
import {tfsRestRequests} from '../../src/bench/http-requests.ts'
import {measurePoint} from '../../src/bench/measure-point.ts'
import {BodySource, samplesFromSignature} from '../../src/bench/body-source.ts'

const sig = [{name: 'x', dtype: 'DT_FLOAT', dims: [-1, 4]}]
const bodies = (clientBatch = 1) => new BodySource(samplesFromSignature(sig, 8), {clientBatch, repeatRatio: 0})
const quick = {warmupS: 0.2, windowS: 0.4, minWindows: 3, maxWindows: 4, stabilityPct: 50}

test("closed loop against a 10 ms server: latency ≥ service time, Little's law X ≈ N/R, inferences = requests × batch", async () => {
  const f = await startFake({delayMs: 10, workers: 4})
  try {
    const m = await measurePoint(new ClosedLoop({url: f.url, concurrency: 4, requests: tfsRestRequests('fake', bodies(3))}), {...quick, metricsBase: f.url})
    assert.equal(m.errors.total, 0)
    // never far below the server's 10 ms delay; libuv timers run on a cached millisecond clock and can fire up to ~1 ms early (9.39 ms seen on a loaded machine)
    assert.ok(m.latency.minMs >= 9, `min ${m.latency.minMs}`)
    assert.ok(m.throughput > 50 && m.throughput < 420, `throughput ${m.throughput}`)
    assert.ok(Math.abs(m.inferencesPerSec / m.throughput - 3) < 1e-9)
    const little = 4 / (m.latency.meanMs / 1000)
    assert.ok(Math.abs(little / m.throughput - 1) < 0.25, `N/R = ${little}, X = ${m.throughput}`)
    assert.ok(m.windows.length >= 3 && m.windows.length <= 4)
    assert.ok((m.server?.requestsByStatus?.['200'] ?? 0) > 0, 'server metrics scraped')
  } finally {
    await f.close()
  }
})

test('open loop measures from the intended send time: a server slower than the rate shows growing latency', async () => {
  // One worker, 20 ms each = 50 req/s capacity; offered 100 req/s constant → queue grows ~10 ms per request.
  const f = await startFake({delayMs: 20, workers: 1})
  try {
    const m = await measurePoint(new OpenLoop({url: f.url, rate: 100, arrival: 'constant', requests: tfsRestRequests('fake', bodies())}), {
      ...quick,
      maxWindows: 3,
    })
    assert.ok(m.sent > 100, `sent ${m.sent}`)
    assert.ok(m.throughput < 70, `throughput ${m.throughput} cannot exceed capacity ~50`)
    // A closed-loop client would report ~20 ms; from the intended time the queueing delay shows.
    assert.ok(m.latency.p99Ms > 100, `p99 ${m.latency.p99Ms}`)
  } finally {
    await f.close()
  }
})

test('open loop at low utilisation: latency close to the service time, few late sends', async () => {
  const f = await startFake({delayMs: 5, workers: 4})
  try {
    const m = await measurePoint(new OpenLoop({url: f.url, rate: 50, arrival: 'poisson', requests: tfsRestRequests('fake', bodies()), seed: 3}), quick)
    assert.equal(m.errors.total, 0)
    assert.ok(m.latency.p50Ms >= 4.5 && m.latency.p50Ms < 60, `p50 ${m.latency.p50Ms}`)
    assert.ok(m.throughput > 25 && m.throughput < 80, `throughput ${m.throughput}`)
  } finally {
    await f.close()
  }
})

test('errors are counted by kind: non-2xx, and connection errors mark the point failed', async () => {
  const f = await startFake({status: 503})
  try {
    const m = await measurePoint(new ClosedLoop({url: f.url, concurrency: 2, requests: tfsRestRequests('fake', bodies())}), {...quick, maxWindows: 3})
    assert.ok(m.errors.non2xx > 0)
    assert.equal(m.throughput, 0)
    assert.match(m.failed ?? '', /no successful responses/)
  } finally {
    await f.close()
  }
  const dead = await startFake()
  const url = dead.url
  await dead.close()
  const m = await measurePoint(new OpenLoop({url, rate: 50, arrival: 'constant', requests: tfsRestRequests('fake', bodies())}), {...quick, maxWindows: 3})
  assert.ok(m.errors.connection > 0)
  assert.match(m.failed ?? '', /connection errors/)
})
