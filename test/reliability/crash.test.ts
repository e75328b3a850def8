/**
 * Scenario 4 — worker crash. Two workers serve MNIST under 16 clients; the test hook
 * (TFSOPT_TEST_HOOKS=1 → POST /v1/_test/kill-worker) kills one worker twice: `mode=now` terminates a
 * busy worker at once, `mode=next` makes one exit inside its next batch (as a native crash would).
 * Expect: only the requests in the killed worker's batch fail, each with 503 and {"error"}; the worker
 * is replaced (tfsopt_workers back to 2, restarts counted); every other request succeeds, correctly.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {openSession} from '../../src/runtime/load.js'
import {mulberry32} from '../../src/stats/prng.js'
import {validMnist} from './corpus.js'
import {call, countBy, metric, report, runLoad, sleep, startChildServer, type ChildServer, type Sample, exclusive} from './harness.js'

const CLIENTS = 16
const MAX_BATCH = 8

describe('worker crash under load', {timeout: 300_000}, () => {
  let srv: ChildServer
  let samples: Sample[] = []
  const kills: {mode: string; atMs: number; killed: boolean; recoveredMs: number}[] = []
  let expected: number[] = []
  let metricsText = ''
  const body = validMnist(mulberry32(4))

  before(() =>
    exclusive(async () => {
      const session = await openSession(DEFAULT_MODEL, {device: 'cpu', intraOpThreads: 1})
      const out = await session.run({input: {dtype: 'float32', dims: [1, 784], data: Float32Array.from(JSON.parse(body).instances[0])}})
      expected = Array.from(out.probabilities!.data as Float32Array)
      await session.dispose()
      // A 5 ms compute floor keeps batches in flight, so a kill always lands on a busy worker.
      srv = await startChildServer(
        {models: [{name: 'mnist', path: DEFAULT_MODEL}], workers: 2, injectLatencyMs: 5, testHooks: true, batching: {maxBatchSize: MAX_BATCH}},
        {TFSOPT_TEST_HOOKS: '1'},
      )
      const t0 = performance.now()
      // The load runs until a second after the last recovery (at most 40 s), however slow the machine.
      let endLoad!: () => void
      const ended = new Promise<void>((r) => (endLoad = r))
      const load = runLoad({
        url: `${srv.url}/v1/models/mnist:predict`,
        body: () => body,
        concurrency: CLIENTS,
        durationMs: 40_000,
        maxRequests: 200_000,
        t0,
        stop: ended,
      })
      const workers = async () => metric(await (await fetch(`${srv.url}/metrics`)).text(), 'tfsopt_workers', {model: 'mnist'})
      for (const mode of ['now', 'next']) {
        await sleep(1500)
        const atMs = performance.now() - t0
        const r = await call(`${srv.url}/v1/_test/kill-worker?mode=${mode}`, {method: 'POST', body: ''})
        // Recovery: until the pool reports both workers live again (after it dropped below 2).
        let seenDrop = false
        let recoveredMs = NaN
        while (performance.now() - t0 < atMs + 10_000) {
          const w = await workers()
          if (w < 2) seenDrop = true
          if (seenDrop && w === 2) {
            recoveredMs = performance.now() - t0 - atMs
            break
          }
          await sleep(10)
        }
        kills.push({mode, atMs: Math.round(atMs), killed: r.json?.killed === true, recoveredMs: Math.round(recoveredMs)})
        assert.ok(performance.now() - t0 < 38_000, 'the kills took too long to recover')
      }
      await sleep(1000)
      endLoad()
      samples = (await load).samples
      metricsText = await (await fetch(`${srv.url}/metrics`)).text()
    }),
  )

  after(async () => {
    await srv?.stop()
    report('worker-crash', {
      clients: CLIENTS,
      workers: 2,
      requests: samples.length,
      statuses: countBy(samples, (s) => s.status || s.text),
      kills,
      restarts: metric(metricsText, 'tfsopt_worker_restarts_total'),
      workersAfter: metric(metricsText, 'tfsopt_workers', {model: 'mnist'}),
    })
  })

  it('both kills hit a live worker, which was replaced', () => {
    assert.equal(kills.length, 2)
    for (const k of kills) {
      assert.ok(k.killed, `kill ${k.mode} found no worker`)
      assert.ok(Number.isFinite(k.recoveredMs), `after kill ${k.mode} the pool never got back to 2 workers`)
    }
    assert.equal(metric(metricsText, 'tfsopt_worker_restarts_total'), 2)
    assert.equal(metric(metricsText, 'tfsopt_workers', {model: 'mnist'}), 2)
  })

  it('only the killed batches fail, each with 503 and {"error"}', () => {
    const failed = samples.filter((s) => s.status !== 200)
    for (const f of failed) {
      assert.equal(f.status, 503, `a failed request got ${f.status}: ${f.text}`)
      assert.match(f.text, /"error":/)
    }
    // Each kill may take down one batch, which holds at most every client's request.
    assert.ok(failed.length <= 2 * Math.min(CLIENTS, MAX_BATCH), `${failed.length} requests failed`)
    assert.ok(failed.length >= 1, 'no request failed: the kills did not hit a running batch')
    // And they failed around the kills, not elsewhere.
    for (const f of failed)
      assert.ok(
        kills.some((k) => f.doneAt >= k.atMs - 50 && f.doneAt <= k.atMs + (Number.isFinite(k.recoveredMs) ? k.recoveredMs : 2000) + 500),
        `a failure at ${f.doneAt} ms is far from the kills`,
      )
  })

  it('every other request succeeds with the right answer', () => {
    const ok = samples.filter((s) => s.status === 200)
    assert.ok(ok.length > 500, `only ${ok.length} succeeded`)
    for (const s of ok.filter((_, i) => i % 25 === 0)) {
      const got = JSON.parse(s.text).predictions[0] as number[]
      assert.ok(
        got.every((x, i) => Math.abs(x - expected[i]!) < 1e-5),
        `wrong answer ${s.text.slice(0, 100)}`,
      )
    }
  })
})
