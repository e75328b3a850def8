/**
 * Scenario 5 — graceful shutdown of the real CLI (`tfsopt serve ... --json`, a child process). 16
 * clients keep one worker busy (batches of 4, 30 ms each, so ~4 batches are always queued); then
 * SIGTERM. Expect: every request sent before the signal is answered 200; new connections are refused
 * soon after it; the process exits 0 within --drain-timeout.
 */
import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {mulberry32} from '../../src/stats/prng.js'
import {validMnist} from './corpus.js'
import {countBy, report, runLoad, sleep, startCliServer, type CliServer, type Sample, exclusive} from './harness.js'

const DRAIN_S = 10
/** Requests sent this close to the signal may still be in the client's socket buffer: either outcome is fine. */
const RACE_MS = 5

/** 'connected' or the error code of one TCP connection attempt. */
const tryConnect = (port: number) =>
  new Promise<string>((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve('connected')
    })
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message))
  })

describe('graceful shutdown (SIGTERM) under load', {timeout: 300_000}, () => {
  let srv: CliServer
  let samples: Sample[] = []
  let termAt = NaN
  let exitCode: number | null = null
  let exitAfterMs = NaN
  let refusedAfterMs = NaN
  const probes: string[] = []

  before(() =>
    exclusive(async () => {
      srv = await startCliServer([
        DEFAULT_MODEL,
        '--model-name',
        'mnist',
        '--port',
        '0',
        '--workers',
        '1',
        '--intra-op-threads',
        '1',
        '--inject-latency-ms',
        '30',
        '--max-batch-size',
        '4',
        '--max-enqueued-batches',
        '64',
        '--drain-timeout',
        String(DRAIN_S),
        '--warmup',
        '0',
        '--poll-seconds',
        '0',
      ])
      const body = validMnist(mulberry32(5))
      const t0 = performance.now()
      let exited!: () => void
      const stop = new Promise<void>((r) => (exited = r))
      void srv.exited.then(() => exited())
      const load = runLoad({
        url: `${srv.url}/v1/models/mnist:predict`,
        body: () => body,
        concurrency: 16,
        durationMs: 30_000,
        maxRequests: 50_000,
        backoffMs: 5,
        stop,
        t0,
      })
      await sleep(2000)
      termAt = performance.now() - t0
      srv.proc.kill('SIGTERM')
      // Probe for refused connections every 20 ms until the process is gone (at most 5 s of probing).
      while (srv.proc.exitCode === null && performance.now() - t0 - termAt < 5000) {
        const r = await tryConnect(srv.port)
        probes.push(r)
        if (r !== 'connected' && Number.isNaN(refusedAfterMs)) refusedAfterMs = performance.now() - t0 - termAt
        await sleep(20)
      }
      let timer: NodeJS.Timeout | undefined
      exitCode = await Promise.race([srv.exited, new Promise<number>((r) => (timer = setTimeout(() => r(-1), (DRAIN_S + 5) * 1000)))])
      clearTimeout(timer)
      exitAfterMs = performance.now() - t0 - termAt
      samples = (await load).samples
    }),
  )

  after(async () => {
    if (srv?.proc.exitCode === null) srv.proc.kill('SIGKILL')
    const pre = samples.filter((s) => s.sentAt < termAt - RACE_MS)
    const post = samples.filter((s) => s.sentAt >= termAt - RACE_MS)
    report('graceful-shutdown', {
      drainTimeoutS: DRAIN_S,
      requests: samples.length,
      beforeSignal: {requests: pre.length, statuses: countBy(pre, (s) => s.status || s.text)},
      afterSignal: {requests: post.length, statuses: countBy(post, (s) => s.status || s.text)},
      inFlightAtSignal: samples.filter((s) => s.sentAt < termAt && s.doneAt > termAt).length,
      lastAnswerAfterSignalMs: Math.round(Math.max(...samples.filter((s) => s.status === 200).map((s) => s.doneAt)) - termAt),
      refusedAfterMs: Math.round(refusedAfterMs),
      probes: countBy(probes, (p) => p),
      exitCode,
      exitAfterMs: Math.round(exitAfterMs),
    })
  })

  it('answers every request sent before the signal (200)', () => {
    const pre = samples.filter((s) => s.sentAt < termAt - RACE_MS)
    const bad = pre.filter((s) => s.status !== 200)
    assert.ok(pre.length > 100)
    assert.equal(bad.length, 0, `${bad.length} of ${pre.length} accepted requests failed: ${JSON.stringify(countBy(bad, (s) => s.status || s.text))}`)
    // Some of them were still queued or running when the signal came: the drain really drained.
    assert.ok(
      samples.some((s) => s.sentAt < termAt - RACE_MS && s.doneAt > termAt + 20),
      'no request was in flight at the signal',
    )
  })

  it('refuses new connections after the signal', () => {
    assert.ok(Number.isFinite(refusedAfterMs), `every probe connected: ${probes.join(',')}`)
    assert.ok(refusedAfterMs < 1000, `first refused connection ${Math.round(refusedAfterMs)} ms after SIGTERM`)
    const post = samples.filter((s) => s.sentAt > termAt + 1000)
    for (const s of post) assert.ok(s.status !== 200, 'a request sent a second after SIGTERM was served')
  })

  it('exits 0 within the drain timeout', () => {
    assert.equal(exitCode, 0, `exit ${exitCode}; stderr: ${srv.stderr()}`)
    assert.ok(exitAfterMs < DRAIN_S * 1000, `exited ${Math.round(exitAfterMs)} ms after SIGTERM`)
  })
})
