/**
 * Scenario 3 — version swap under load. A base path starts with version 1 (y = x); while 8 clients
 * keep predicting, version 2 (y = 2x) appears, then version 3, which is corrupt. Versions are staged
 * in a hidden sibling and renamed into place, as deploy tools should (a half-copied directory is a
 * different hazard). Expect: no failed request; answers switch to version 2 and never go back; the
 * corrupt version leaves version 2 serving and its error shows in GET /v1/models/{name}.
 */
import assert from 'node:assert/strict'
import {mkdirSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {
  call,
  countBy,
  report,
  runLoad,
  scaleModel,
  settledStatus,
  sleep,
  startChildServer,
  tmp,
  versionedBase,
  type ChildServer,
  type Sample,
  exclusive,
} from './harness.js'

const X = [1, 2, 3, 4]
const BODY = JSON.stringify({instances: [X]})

/** Which version answered: the scale factor, read from y = scale · x. */
const scaleOf = (s: Sample): number => {
  try {
    return JSON.parse(s.text).predictions[0][3] / X[3]!
  } catch {
    return NaN
  }
}

describe('version swap under load', {timeout: 300_000}, () => {
  let srv: ChildServer
  let samples: Sample[] = []
  let t2 = NaN
  let t3 = NaN
  let firstV2 = NaN
  let status: any
  let stopCode: number | null = null

  before(() =>
    exclusive(async () => {
      const base = versionedBase(tmp(), {1: 1})
      srv = await startChildServer({models: [{name: 'scale', path: base}], pollSeconds: 0.25, workers: 1})
      const t0 = performance.now()
      const load = runLoad({url: `${srv.url}/v1/models/scale:predict`, body: () => BODY, concurrency: 8, durationMs: 7000, maxRequests: 200_000, t0})
      const stage = (v: number, write: (dir: string) => void) => {
        const dir = join(base, `.staging-${v}`)
        mkdirSync(dir)
        write(dir)
        renameSync(dir, join(base, String(v)))
        return performance.now() - t0
      }
      await sleep(1500)
      t2 = stage(2, (d) => scaleModel(join(d, 'model.onnx'), 2))
      await sleep(2500)
      t3 = stage(3, (d) => writeFileSync(join(d, 'model.onnx'), Buffer.from('this is not an ONNX model '.repeat(100))))
      samples = (await load).samples
      status = await settledStatus(`${srv.url}/v1/models/scale`, 3)
      firstV2 = Math.min(...samples.filter((s) => scaleOf(s) === 2).map((s) => s.doneAt))
      stopCode = await srv.stop()
    }),
  )

  after(async () => {
    if (srv?.alive()) await srv.stop()
    report('version-swap', {
      requests: samples.length,
      statuses: countBy(samples, (s) => s.status || s.text),
      answersByVersion: countBy(samples, scaleOf),
      v2AppearedAtMs: Math.round(t2),
      firstV2AnswerAfterMs: Math.round(firstV2 - t2),
      corruptAppearedAtMs: Math.round(t3),
      status: status?.model_version_status?.map((v: any) => `${v.version}:${v.state}:${v.status.error_message.slice(0, 80)}`),
      stopExit: stopCode,
    })
  })

  it('fails no request', () => {
    const bad = samples.filter((s) => s.status !== 200)
    assert.equal(bad.length, 0, `${bad.length} of ${samples.length} failed: ${JSON.stringify(countBy(bad, (s) => s.status || s.text))} ${bad[0]?.text}`)
    assert.ok(samples.length > 200, `only ${samples.length} requests ran`)
  })

  it('every answer is exactly version 1 or version 2', () => {
    assert.deepEqual(Object.keys(countBy(samples, scaleOf)).sort(), ['1', '2'])
  })

  it('switches to version 2 within a few poll intervals and never goes back', () => {
    assert.ok(firstV2 - t2 < 5000, `first v2 answer ${Math.round(firstV2 - t2)} ms after it appeared`)
    // A request sent after a v2 answer came back must be answered by v2 (and the corrupt v3 changes nothing).
    const late = samples.filter((s) => s.sentAt > firstV2 && scaleOf(s) !== 2)
    assert.equal(late.length, 0, `${late.length} requests sent after the switch were answered by another version`)
  })

  it('the corrupt version 3 is refused, shown with its error, and version 2 keeps serving', () => {
    const list = status.model_version_status as {version: string; state: string; status: {error_code: string; error_message: string}}[]
    const v3 = list.find((v) => v.version === '3')
    const v2 = list.find((v) => v.version === '2')
    assert.ok(v3, `status lists no version 3: ${JSON.stringify(status)}`)
    assert.notEqual(v3.state, 'AVAILABLE')
    assert.ok(v3.status.error_message.length > 0, 'version 3 shows no error')
    assert.equal(v2?.state, 'AVAILABLE')
    assert.ok(samples.filter((s) => s.sentAt > t3 + 1000).every((s) => scaleOf(s) === 2))
  })

  it('the server stops cleanly afterwards (exit 0)', () => assert.equal(stopCode, 0))
})

describe('version copied in non-atomically', {timeout: 300_000}, () => {
  it('a version directory whose model file is still being written loads once the file is complete', () =>
    exclusive(async () => {
      // `cp -r` creates the directory and the file first and fills it afterwards; a poll in between sees
      // a truncated model. TF Serving retries failed loads (max_num_load_retries); the file is now whole.
      const base = versionedBase(tmp(), {1: 1})
      const full = join(tmp(), 'model.onnx')
      scaleModel(full, 2)
      const {readFileSync, appendFileSync} = await import('node:fs')
      const bytes = readFileSync(full)
      const srv = await startChildServer({models: [{name: 'scale', path: base}], pollSeconds: 0.25})
      try {
        mkdirSync(join(base, '2'))
        writeFileSync(join(base, '2', 'model.onnx'), bytes.subarray(0, bytes.length >> 1))
        // Wait until a poll has tried the truncated file and failed (so the race is not left to chance).
        const t1 = performance.now()
        let first = ''
        while (performance.now() - t1 < 10_000) {
          first = (await call(`${srv.url}/v1/models/scale/versions/2`)).json?.model_version_status?.[0]?.status?.error_message ?? ''
          if (first) break
          await sleep(100)
        }
        assert.ok(first, 'the truncated version 2 was never tried')
        appendFileSync(join(base, '2', 'model.onnx'), bytes.subarray(bytes.length >> 1))
        let state = ''
        const t = performance.now()
        while (performance.now() - t < 6000) {
          const st = (await call(`${srv.url}/v1/models/scale/versions/2`)).json
          state = st?.model_version_status?.[0]?.state ?? JSON.stringify(st)
          if (state === 'AVAILABLE') break
          await sleep(250)
        }
        report('version-copied-slowly', {firstError: first.slice(0, 100), stateAfterCompletion: state, waitedMs: Math.round(performance.now() - t)})
        assert.equal(state, 'AVAILABLE', 'version 2 never loaded after its file was completed')
        assert.deepEqual((await call(`${srv.url}/v1/models/scale:predict`, {body: BODY})).json, {predictions: [X.map((x) => 2 * x)]})
      } finally {
        await srv.stop()
      }
    }))
})
