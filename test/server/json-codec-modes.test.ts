/**
 * --json-codec worker|main through HTTP: large JSON bodies (≥ 64 KiB, the size from which the worker
 * parses them) answer the same bytes in both modes — row and columnar, float/int64/bool with NaN and
 * int64 beyond 2^53, b64 strings — and are refused with the same 400s; concurrent large bodies still
 * merge into one batch; the response cache still answers repeats.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {BINARY_TYPE} from '../../src/server/binary-codec.js'
import {floats, get, metric, multiModel, nest, post, scaleModel, serve, stringModel, tmp} from './helpers.js'

const dir = tmp()
const scale2 = scaleModel(join(dir, 'scale.onnx'), 2)
const multi = multiModel(join(dir, 'multi.onnx'))
const strings = stringModel(join(dir, 'strings.onnx'))
const MODES = ['worker', 'main'] as const

const ROWS = 5000 // 20,000 floats: a ~200 KB body and 20,000 output values, both past the worker thresholds
const x = Float32Array.from(floats(ROWS * 4, 7))
const columnar = JSON.stringify({inputs: nest(Array.from(x), [ROWS, 4])})
const row = JSON.stringify({instances: nest(Array.from(x), [ROWS, 4])})

/** A multi-model body with NaN/-Infinity literals and an int64 past 2^53 (JSON.stringify cannot write those). */
function multiBody(n: number): string {
  const rows = Array.from({length: n}, (_, i) => `{"a": [${i}.5, NaN, -Infinity], "b": [9007199254740993, ${-i}], "flag": ${i % 2 === 0}}`)
  return `{"instances": [${rows.join(', ')}]}`
}

/** Bodies each codec must refuse with the main-thread codec's words. */
function badBodies(): Record<string, string> {
  const good = Array.from(x).map(String)
  const withAt = (i: number, v: string) => {
    const g = good.slice()
    g[i] = v
    const rows = Array.from({length: ROWS}, (_, r) => `[${g.slice(r * 4, r * 4 + 4).join(',')}]`)
    return `{"inputs": [${rows.join(',')}]}`
  }
  return {
    'string value': withAt(ROWS * 4 - 3, '"1.5"'),
    'bool value': withAt(ROWS * 2, 'true'),
    'null value': withAt(5, 'null'),
    'object value': withAt(9, '{"b64": "AAAA"}'),
    ragged: withAt(ROWS * 4 - 1, '1.5').replace(/,1\.5\]\]\}$/, ']]}'),
    'wrong rank': JSON.stringify({inputs: Array.from(x)}),
    'wrong inner dimension': JSON.stringify({inputs: nest(Array.from(x), [ROWS * 2, 2])}),
    'unknown signature': JSON.stringify({signature_name: 'nope', inputs: nest(Array.from(x), [ROWS, 4])}),
    'broken JSON': columnar.slice(0, -5),
  }
}

test('both codec modes answer large bodies with the same bytes, and refuse bad ones with the same 400s', async () => {
  const answers: Record<string, Record<string, string>> = {}
  for (const mode of MODES) {
    const srv = await serve({
      models: [
        {name: 's', path: scale2},
        {name: 'multi', path: multi},
        {name: 'strings', path: strings},
      ],
      jsonCodec: mode,
      batching: {maxBatchSize: 2 * ROWS, batchTimeoutMicros: 0},
    })
    const a: Record<string, string> = {}
    answers[mode] = a
    try {
      const url = (m: string) => `${srv.url}/v1/models/${m}:predict`
      const c = await post(url('s'), columnar)
      assert.equal(c.status, 200, c.text)
      const out = (c.json.outputs as number[][]).flat()
      assert.equal(out.length, ROWS * 4)
      for (let i = 0; i < out.length; i++) assert.equal(Math.fround(out[i]!), Math.fround(x[i]! * 2), `value ${i}`)
      a.columnar = c.text
      const r = await post(url('s'), row)
      assert.equal(r.status, 200)
      assert.deepEqual((r.json.predictions as number[][]).flat(), out)
      a.row = r.text
      // The binary answer to a JSON body (the worker parses it, the main thread writes the answer).
      const bin = await fetch(url('s'), {method: 'POST', body: columnar, headers: {accept: BINARY_TYPE}})
      assert.equal(bin.status, 200)
      const f = new Float32Array(await bin.arrayBuffer())
      assert.deepEqual(Array.from(f), out.map(Math.fround))
      const m = await post(url('multi'), multiBody(3000))
      assert.equal(m.status, 200, m.text)
      assert.match(m.text, /^\{"predictions":\[\{"doubled":\[1,NaN,-Infinity\],"incremented":\[9007199254740994,1\],"negated":false\},/)
      assert.match(m.text, /\{"doubled":\[5999,NaN,-Infinity\],"incremented":\[9007199254740994,-2998\],"negated":true\}\]\}$/)
      a.multi = m.text
      const b64 = Buffer.from('ünïcode ✓').toString('base64')
      const sb = await post(url('strings'), {instances: Array.from({length: 4000}, (_, i) => (i % 2 ? {b64} : `plain ${i}`))})
      assert.equal(sb.status, 200, sb.text)
      assert.deepEqual(sb.json.predictions[1], {echo: 'ünïcode ✓', echo_bytes: {b64}})
      a.b64 = sb.text
      for (const [name, body] of Object.entries(badBodies())) {
        assert.ok(body.length >= 64 * 1024, `${name} is a large body`)
        const e = await post(url('s'), body)
        assert.equal(e.status, 400, `${mode} ${name}: ${e.text}`)
        assert.equal(typeof e.json?.error, 'string', `${mode} ${name}: ${e.text}`)
        a[`error: ${name}`] = e.json.error
      }
      // The server is still whole after every refusal.
      assert.equal((await post(url('s'), {instances: [[1, 2, 3, 4]]})).text, '{"predictions":[[2,4,6,8]]}')
      const metrics = (await get(`${srv.url}/metrics`)).text
      const decode = metric(metrics, 'tfsopt_worker_busy_seconds_total', {model: 's', activity: 'decode'})
      const encode = metric(metrics, 'tfsopt_worker_busy_seconds_total', {model: 's', activity: 'encode'})
      if (mode === 'worker') assert.ok(decode > 0 && encode > 0, `worker decode ${decode} s, encode ${encode} s`)
      else assert.ok(!(decode > 0) && !(encode > 0), `main mode: worker decode ${decode} s, encode ${encode} s`)
    } finally {
      await srv.close()
    }
  }
  assert.deepEqual(Object.keys(answers.worker!), Object.keys(answers.main!))
  for (const k of Object.keys(answers.main!)) assert.equal(answers.worker![k], answers.main![k], k)
  // The refusals say what was wrong, as the main-thread codec always has.
  assert.match(answers.main!['error: string value']!, /expected numbers/)
  assert.match(answers.main!['error: wrong inner dimension']!, /shape \[10000,2\] but the model expects \[batch, 4\]/)
})

test('worker codec: concurrent large bodies share one batch, a bad one among them fails alone', async () => {
  const srv = await serve({models: [{name: 's', path: scale2}], jsonCodec: 'worker', batching: {maxBatchSize: 3 * ROWS, batchTimeoutMicros: 60_000_000}})
  try {
    const url = `${srv.url}/v1/models/s:predict`
    const y = Float32Array.from(floats(ROWS * 4, 8))
    const body2 = JSON.stringify({instances: nest(Array.from(y), [ROWS, 4])})
    // `true` among the numbers passes the main thread's structure scan: the worker's byte decoder is
    // the one that gives up on it, and sends the body back for the main-thread path to word the 400.
    const bad = badBodies()['bool value']!
    // The three fill the batch (3 × ROWS rows) and close it: the merge does not depend on timing.
    const [r1, r2, r3] = await Promise.all([post(url, columnar), post(url, body2), post(url, bad)])
    assert.equal(r1!.status, 200)
    assert.equal(r2!.status, 200)
    assert.equal(r3!.status, 400, r3!.text)
    assert.match(r3!.json.error, /expected numbers/)
    assert.equal(metric((await get(`${srv.url}/metrics`)).text, 'tfsopt_batches_total', {model: 's'}), 1)
    const o1 = (r1!.json.outputs as number[][]).flat()
    const o2 = (r2!.json.predictions as number[][]).flat()
    for (let i = 0; i < ROWS * 4; i++) {
      assert.equal(Math.fround(o1[i]!), Math.fround(x[i]! * 2), `request 1 value ${i}`)
      assert.equal(Math.fround(o2[i]!), Math.fround(y[i]! * 2), `request 2 value ${i}`)
    }
    const m = (await get(`${srv.url}/metrics`)).text
    // One batch for the three; the refused one goes back to the main thread, which answers its 400.
    assert.equal(metric(m, 'tfsopt_batches_total', {model: 's'}), 1)
    assert.equal(metric(m, 'tfsopt_batch_size_sum', {model: 's'}), 3 * ROWS)
  } finally {
    await srv.close()
  }
})

test('worker codec with the response cache: a repeated large body is a cache hit with the same answer', async () => {
  const srv = await serve({models: [{name: 's', path: scale2}], jsonCodec: 'worker', cacheSize: 10, batching: {maxBatchSize: ROWS, batchTimeoutMicros: 0}})
  try {
    const url = `${srv.url}/v1/models/s:predict`
    const first = await post(url, columnar)
    const again = await post(url, columnar)
    assert.equal(first.status, 200)
    assert.equal(again.text, first.text)
    const m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_cache_hits_total', {model: 's'}), 1)
    assert.equal(metric(m, 'tfsopt_cache_misses_total', {model: 's'}), 1)
  } finally {
    await srv.close()
  }
})
