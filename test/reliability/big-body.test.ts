/**
 * Scenario 9 of docs/RELIABILITY.md: 60 MB hostile JSON bodies (under the 64 MiB default limit, a
 * shape the model refuses), one and then four at once, against the default server (--json-codec
 * worker, default body budget). Asserted: each is refused with a 400 or a 503 (the in-flight budget)
 * and {"error"}, and the server keeps answering. Reported (not asserted: the box is shared): time to
 * refuse, RSS at start, its peak while the bodies are in, and after 5 s (targets: back within 150 MB
 * of the start within 5 s; four at once, peak growth ≤ 400 MB).
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {call, exclusive, mb, report, rssOf, scaleModel, sleep, startChildServer, tmp} from './harness.js'

const dir = tmp()
const model = scaleModel(join(dir, 'scale.onnx'), 2)

/** ~60 MB of rows of 3 floats for a model that takes rows of 4: well-formed JSON, the wrong shape. */
function hostileBody(bytes: number): Buffer {
  const row = '[0.123456789012,0.234567890123,0.345678901234]'
  const n = Math.floor((bytes - 20) / (row.length + 1))
  return Buffer.from(`{"instances":[${new Array(n).fill(row).join(',')}]}`)
}

/** Samples the server's RSS every 10 ms while `fn` runs; resolves with fn's value and the peak. */
async function withPeak<T>(pid: number, fn: () => Promise<T>): Promise<{value: T; peak: number}> {
  let peak = rssOf(pid)
  const t = setInterval(() => {
    peak = Math.max(peak, rssOf(pid))
  }, 10)
  try {
    const value = await fn()
    return {value, peak: Math.max(peak, rssOf(pid))}
  } finally {
    clearInterval(t)
  }
}

test('60 MB hostile JSON bodies, one and four at once: refused, the server keeps serving', {timeout: 240_000}, async () => {
  await exclusive(async () => {
    const body = hostileBody(60_000_000)
    assert.ok(body.length < 64 * 1024 * 1024 && body.length > 59_000_000)
    const srv = await startChildServer({models: [{name: 's', path: model}]})
    try {
      const url = `${srv.url}/v1/models/s:predict`
      const ok = async () => {
        const r = await call(url, {body: '{"instances": [[1, 2, 3, 4]]}'})
        assert.equal(r.text, '{"predictions":[[2,4,6,8]]}')
      }
      await ok()
      await srv.mem()
      const start = rssOf(srv.pid)
      const one = await withPeak(srv.pid, () => call(url, {body, timeoutMs: 120_000}))
      assert.equal(one.value.status, 400, one.value.text.slice(0, 300))
      assert.match(one.value.json?.error ?? '', /shape \[\d+,3\] but the model expects \[batch, 4\]/)
      await sleep(5000)
      const after1 = rssOf(srv.pid)
      await ok()
      const start4 = rssOf(srv.pid)
      const four = await withPeak(srv.pid, () => Promise.all(Array.from({length: 4}, () => call(url, {body, timeoutMs: 120_000}))))
      for (const r of four.value) {
        assert.ok(r.status === 400 || r.status === 503, `${r.status} ${r.text.slice(0, 300)}`)
        assert.equal(typeof r.json?.error, 'string')
      }
      await sleep(5000)
      const after4 = rssOf(srv.pid)
      await ok()
      assert.ok(srv.alive())
      report('big-body', {
        bodyMB: mb(body.length),
        one: {refuseMs: Math.round(one.value.ms), startMB: mb(start), peakMB: mb(one.peak), after5sMB: mb(after1), backWithinMB: mb(after1 - start)},
        four: {
          statuses: four.value.map((r) => r.status),
          slowestMs: Math.round(Math.max(...four.value.map((r) => r.ms))),
          startMB: mb(start4),
          peakMB: mb(four.peak),
          peakGrowthMB: mb(four.peak - start4),
          after5sMB: mb(after4),
        },
      })
    } finally {
      await srv.stop()
    }
  })
})
