/** Per-thread busy time: main-thread event-loop busy seconds, per-worker inference seconds, codec seconds. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {get, metric, post, scaleModel, serve, tmp} from './helpers.js'

const dir = tmp()
const scale2 = scaleModel(join(dir, 'scale.onnx'), 2)

test('busy-second counters exist with HELP text and grow under load', async () => {
  const srv = await serve({models: [{name: 's', path: scale2}], workers: 2})
  try {
    const load = async (n: number) => {
      for (let i = 0; i < n; i += 8) await Promise.all(Array.from({length: 8}, () => post(`${srv.url}/v1/models/s:predict`, {instances: [[1, 2, 3, 4]]})))
    }
    await load(16)
    const before = (await get(`${srv.url}/monitoring/prometheus/metrics`)).text
    for (const name of ['tfsopt_main_thread_busy_seconds_total', 'tfsopt_worker_busy_seconds_total', 'tfsopt_main_thread_codec_seconds_total'])
      assert.match(before, new RegExp(`^# HELP ${name} \\S`, 'm'), name)
    const read = (m: string) => ({
      main: metric(m, 'tfsopt_main_thread_busy_seconds_total'),
      inference: metric(m, 'tfsopt_worker_busy_seconds_total', {model: 's', activity: 'inference'}),
      decode: metric(m, 'tfsopt_main_thread_codec_seconds_total', {model: 's', direction: 'decode'}),
      encode: metric(m, 'tfsopt_main_thread_codec_seconds_total', {model: 's', direction: 'encode'}),
    })
    const a = read(before)
    for (const [k, v] of Object.entries(a)) assert.ok(v > 0, `${k} = ${v} after load`)
    // One series per worker slot: the pool's two workers are labelled 0 and 1, nothing else.
    const slots = [...before.matchAll(/^tfsopt_worker_busy_seconds_total\{[^}]*worker="(\d+)"[^}]*activity="inference"/gm)].map((m) => m[1])
    assert.ok(slots.length >= 1 && slots.every((s) => s === '0' || s === '1'), `worker slots: ${slots}`)
    await load(64)
    const b = read((await get(`${srv.url}/metrics`)).text)
    for (const k of Object.keys(a) as (keyof typeof a)[]) assert.ok(b[k] > a[k], `${k}: ${a[k]} → ${b[k]} should grow under load`)
    // Busy seconds cannot exceed wall time per thread.
    assert.ok(b.main <= process.uptime(), `main busy ${b.main} s within uptime ${process.uptime()} s`)
  } finally {
    await srv.close()
  }
})
