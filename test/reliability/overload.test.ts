/**
 * Scenario 2 — overload. One worker, batches of at most 4, at most 2 batches waiting and a fixed 20 ms
 * of compute per batch (--inject-latency-ms, so the capacity does not depend on the CI machine): the
 * server holds at most 4 + 2 × 4 = 12 requests and runs ~200/s. First the saturated rate is measured
 * with exactly 12 clients, then 200 clients push. Expect: the excess is refused with 503 at once, the
 * queue never exceeds its bound, RSS stays flat, and the accepted requests keep the saturated rate and
 * a bounded latency. On a machine so busy that this client itself stalls, the measurement is retried
 * (3 attempts) and the timing assertions are then skipped with the reason, rather than blame the server.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {monitorEventLoopDelay} from 'node:perf_hooks'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {mulberry32} from '../../src/stats/prng.js'
import {validMnist} from './corpus.js'
import {countBy, cpuOf, mb, metric, quantile, report, rssOf, runLoad, sleep, startChildServer, type ChildServer, type Sample, exclusive} from './harness.js'

const BATCH = 4
const ENQUEUED = 2
const COMPUTE_MS = 20
const CAPACITY = BATCH * (1 + ENQUEUED)
const OVERLOAD_CLIENTS = 200
const BACKOFF_MS = Number(process.env.TFSOPT_OVERLOAD_BACKOFF_MS ?? 10)

describe('overload', {timeout: 330_000}, () => {
  let srv: ChildServer
  const body = validMnist(mulberry32(2))
  let sat: {samples: Sample[]; wallMs: number}
  let over: {samples: Sample[]; wallMs: number}
  let rssBase = NaN
  let rssPeak = 0
  let queuePeak = 0
  let batching = {meanBatch: NaN, workerBusy: NaN}
  let serverCpu = NaN
  let clientLagP99 = NaN
  let clientLagP50 = NaN
  let serverFastShare = NaN
  let clientCpu = NaN
  let attempts = 0
  let starved = false
  const starvedNote = () => (starved ? `the machine was too busy to measure (3 attempts; client event-loop lag p99 ${clientLagP99.toFixed(0)} ms)` : false)

  before(() =>
    exclusive(async () => {
      srv = await startChildServer({
        models: [{name: 'mnist', path: DEFAULT_MODEL}],
        workers: 1,
        injectLatencyMs: COMPUTE_MS,
        batching: {maxBatchSize: BATCH, maxEnqueuedBatches: ENQUEUED, batchTimeoutMicros: 0},
      })
      const url = `${srv.url}/v1/models/mnist:predict`
      await runLoad({url, body: () => body, concurrency: CAPACITY, durationMs: 800})
      // A measurement on a machine other jobs are starving says nothing about the server: retry up to 3
      // times; if every attempt was starved, the timing assertions are skipped (and say so).
      for (attempts = 1; attempts <= 3; attempts++) {
        if (Number.isNaN(rssBase)) rssBase = rssOf(srv.pid)
        sat = await runLoad({url, body: () => body, concurrency: CAPACITY, durationMs: 3000})
        // Sample the server's RSS and its queue gauge while the overload runs.
        let sampling = true
        const sampler = (async () => {
          while (sampling) {
            rssPeak = Math.max(rssPeak, rssOf(srv.pid))
            const m = await fetch(`${srv.url}/metrics`)
              .then((r) => r.text())
              .catch(() => '')
            const q = metric(m, 'tfsopt_queued_requests')
            if (Number.isFinite(q)) queuePeak = Math.max(queuePeak, q)
            await sleep(100)
          }
        })()
        const scrape = async () => {
          const m = await (await fetch(`${srv.url}/metrics`)).text()
          return {
            batches: metric(m, 'tfsopt_batches_total'),
            rows: metric(m, 'tfsopt_inferences_total'),
            fast: metric(m, 'tfsopt_request_latency_seconds_bucket', {le: '0.005'}),
            all: metric(m, 'tfsopt_request_latency_seconds_count'),
          }
        }
        const m0 = await scrape()
        const cpu0 = cpuOf(srv.pid)
        const me0 = process.cpuUsage()
        // This process's own event-loop lag: 200 clients on a shared 2-core box delay reading answers too.
        const lag = monitorEventLoopDelay({resolution: 5})
        lag.enable()
        over = await runLoad({url, body: () => body, concurrency: OVERLOAD_CLIENTS, durationMs: 4000, maxRequests: 400_000, backoffMs: BACKOFF_MS})
        lag.disable()
        clientLagP99 = lag.percentile(99) / 1e6
        clientLagP50 = lag.percentile(50) / 1e6
        serverCpu = (cpuOf(srv.pid) - cpu0) / (over.wallMs / 1000)
        const me = process.cpuUsage(me0)
        clientCpu = (me.user + me.system) / 1e6 / (over.wallMs / 1000)
        const m1 = await scrape()
        // Is the worker idle (waiting for the event loop) or are batches smaller? Busy share = batches × compute time.
        // Server-side view (arrival to answer): the share of requests answered within 5 ms; most are 503s.
        serverFastShare = (m1.fast - m0.fast) / (m1.all - m0.all)
        batching = {
          meanBatch: Math.round(((m1.rows - m0.rows) / (m1.batches - m0.batches)) * 100) / 100,
          workerBusy: Math.round((((m1.batches - m0.batches) * COMPUTE_MS) / over.wallMs) * 100) / 100,
        }
        sampling = false
        await sampler
        const satRate = sat.samples.filter((x) => x.status === 200).length / (sat.wallMs / 1000)
        // Starved: the light saturated phase ran well under capacity, or this client's own loop stalled.
        starved = satRate < 0.6 * (BATCH / COMPUTE_MS) * 1000 || clientLagP99 > 150
        if (!starved) break
        await sleep(3000)
      }
    }),
  )

  after(async () => {
    const acc = (s: Sample[]) => s.filter((x) => x.status === 200)
    const rate = (r: {samples: Sample[]; wallMs: number}) => Math.round(acc(r.samples).length / (r.wallMs / 1000))
    if (sat && over) {
      report('overload', {
        attempts: Math.min(attempts, 3),
        starved,
        config: {workers: 1, maxBatchSize: BATCH, maxEnqueuedBatches: ENQUEUED, computeMs: COMPUTE_MS, capacity: CAPACITY},
        saturated: {
          clients: CAPACITY,
          requests: sat.samples.length,
          okPerSec: rate(sat),
          p50ms: quantile(
            acc(sat.samples).map((s) => s.ms),
            0.5,
          ),
          p99ms: quantile(
            acc(sat.samples).map((s) => s.ms),
            0.99,
          ),
        },
        overload: {
          clients: OVERLOAD_CLIENTS,
          requests: over.samples.length,
          statuses: countBy(over.samples, (s) => s.status || s.text),
          okPerSec: rate(over),
          okP50ms: quantile(
            acc(over.samples).map((s) => s.ms),
            0.5,
          ),
          okP99ms: quantile(
            acc(over.samples).map((s) => s.ms),
            0.99,
          ),
          rejectP50ms: quantile(
            over.samples.filter((s) => s.status === 503).map((s) => s.ms),
            0.5,
          ),
          rejectP99ms: quantile(
            over.samples.filter((s) => s.status === 503).map((s) => s.ms),
            0.99,
          ),
          backoffMs: BACKOFF_MS,
          ...batching,
          serverCpuCores: Math.round(serverCpu * 100) / 100,
          clientCpuCores: Math.round(clientCpu * 100) / 100,
          clientLoopLagP50ms: Math.round(clientLagP50),
          clientLoopLagP99ms: Math.round(clientLagP99),
          serverAnsweredWithin5msShare: Math.round(serverFastShare * 1000) / 1000,
          queuePeak,
          rssMB: {before: mb(rssBase), peak: mb(rssPeak)},
        },
      })
    }
    await srv?.stop()
  })

  it('answers only 200 or 503, and refuses the excess with 503', () => {
    const st = countBy(over.samples, (s) => s.status || s.text)
    assert.deepEqual(
      Object.keys(st).filter((k) => k !== '200' && k !== '503'),
      [],
      JSON.stringify(st),
    )
    assert.ok((st['503'] ?? 0) > over.samples.length / 2, `expected most requests refused: ${JSON.stringify(st)}`)
    const bodies = over.samples.filter((s) => s.status === 503).slice(0, 50)
    for (const b of bodies) assert.match(b.text, /"error":/)
  })

  it('refuses at once: a 503 comes back faster than one batch computes', (t) => {
    if (starvedNote()) return t.skip(starvedNote() as string)
    // Server side: the refused (95 %+ of all requests) are answered within 5 ms of arrival.
    const refused = over.samples.filter((s) => s.status === 503).length / over.samples.length
    assert.ok(
      serverFastShare >= refused * 0.9,
      `only ${(serverFastShare * 100).toFixed(1)} % of requests answered within 5 ms server-side; ${(refused * 100).toFixed(1)} % were refused`,
    )
    // Client side: the median 503 within one batch's compute, plus this client's own loop lag.
    const r = over.samples.filter((s) => s.status === 503).map((s) => s.ms)
    assert.ok(
      quantile(r, 0.5) < COMPUTE_MS + clientLagP50,
      `median 503 latency ${quantile(r, 0.5).toFixed(1)} ms (client loop lag p50 ${clientLagP50.toFixed(1)} ms)`,
    )
  })

  it('keeps the queue bounded (max_enqueued_batches × max_batch_size) and RSS flat', () => {
    assert.ok(queuePeak <= ENQUEUED * BATCH, `queued requests peaked at ${queuePeak}`)
    if (Number.isFinite(rssBase)) assert.ok(rssPeak - rssBase < 64 * 1048576, `RSS went from ${mb(rssBase)} to ${mb(rssPeak)} MB`)
  })

  it('keeps the accepted throughput near the saturated rate, with bounded latency', (t) => {
    if (starvedNote()) return t.skip(starvedNote() as string)
    const ok = (r: {samples: Sample[]}) => r.samples.filter((s) => s.status === 200)
    const satRate = ok(sat).length / (sat.wallMs / 1000)
    const overRate = ok(over).length / (over.wallMs / 1000)
    assert.ok(overRate >= 0.75 * satRate, `accepted ${overRate.toFixed(0)}/s under overload vs ${satRate.toFixed(0)}/s saturated`)
    // An accepted request waits for at most the batch running, one handed to the worker ahead of time,
    // ENQUEUED batches, then its own: (ENQUEUED + 3) × compute = 100 ms; ×4 for a busy 2-core box, plus
    // this client's own event-loop lag. An unbounded queue would make it ~clients / batch × compute = 1 s.
    const bound =
      Math.max(
        3 *
          quantile(
            ok(sat).map((s) => s.ms),
            0.99,
          ),
        (ENQUEUED + 3) * COMPUTE_MS * 4,
      ) + clientLagP99
    const p99 = quantile(
      ok(over).map((s) => s.ms),
      0.99,
    )
    assert.ok(p99 <= bound, `accepted p99 ${p99.toFixed(1)} ms > bound ${bound.toFixed(1)} ms (client loop lag p99 ${clientLagP99.toFixed(0)} ms)`)
  })
})
