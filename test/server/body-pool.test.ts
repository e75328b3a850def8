/**
 * Recycled body buffers (body-pool.ts): sizes, reuse, the idle bound, and detached buffers; then through
 * HTTP, large bodies read into recycled buffers (a shorter body in a longer one's buffer) answer exactly
 * what the model gives for them, in both codec modes, and so do large answers written into recycled
 * buffers (on the main thread, and in the worker, which gets each buffer back once its answer is sent);
 * the idle bytes are exported.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {BodyPool, capacityFor, MAX_POOLED, MIN_POOLED} from '../../src/server/body-pool.js'
import {floats, get, metric, post, scaleModel, serve, tmp} from './helpers.js'

const MiB = 1 << 20

test('capacity classes: a body rounded up to an eighth of its power of two', () => {
  assert.equal(capacityFor(MiB), MiB)
  assert.equal(capacityFor(MiB + 1), MiB + 128 * 1024)
  // 5,920,000 bytes: 2^22 ≤ n < 2^23, steps of 2^19 = 524,288; 12 steps = 6,291,456.
  assert.equal(capacityFor(5_920_000), 6_291_456)
  assert.equal(capacityFor(2 * MiB - 1), 2 * MiB)
})

test('the pool recycles a buffer for the next body of its class, and only its own, once, within its bound', () => {
  const pool = new BodyPool(3 * MiB)
  try {
    const small = pool.take(MIN_POOLED - 1)
    assert.equal(pool.owns(small), false)
    assert.equal(pool.owns(pool.take(MAX_POOLED + 1)), false)
    const a = pool.take(MiB + 1000)
    assert.equal(a.length, MiB + 1000)
    assert.ok(pool.owns(a))
    assert.equal(a.buffer.byteLength, MiB + 128 * 1024)
    pool.give(a)
    pool.give(a) // a second give of the same buffer is ignored
    assert.equal(pool.idleBytes, MiB + 128 * 1024)
    const b = pool.take(MiB + 5)
    assert.equal(b.buffer, a.buffer, 'same class: the same buffer again')
    assert.equal(b.length, MiB + 5)
    assert.equal(pool.idleBytes, 0)
    // A buffer that moved to another thread (detached) is not taken back.
    structuredClone(b, {transfer: [b.buffer as ArrayBuffer]})
    pool.give(b)
    assert.equal(pool.idleBytes, 0)
    // At most maxIdleBytes held idle: the third 1 MiB buffer is dropped.
    const three = [pool.take(MiB), pool.take(MiB), pool.take(MiB), pool.take(MiB)]
    for (const x of three) pool.give(x)
    assert.equal(pool.idleBytes, 3 * MiB)
    pool.clear()
    assert.equal(pool.idleBytes, 0)
  } finally {
    pool.close()
  }
})

test('a buffer that went to another thread and came back is adopted again; odd sizes are not', () => {
  const pool = new BodyPool(8 * MiB)
  try {
    const a = pool.take(MiB + 1000)
    // There and back: two transfers, so a new ArrayBuffer object with the same bytes.
    const there = structuredClone(a.buffer, {transfer: [a.buffer as ArrayBuffer]})
    const back = structuredClone(there, {transfer: [there]})
    pool.adopt(back as ArrayBuffer)
    assert.equal(pool.idleBytes, MiB + 128 * 1024)
    const b = pool.take(MiB + 5)
    assert.equal(b.buffer, back, 'the adopted buffer serves its class')
    pool.adopt(new ArrayBuffer(MiB + 1)) // not one of the pool's capacities
    pool.adopt(new ArrayBuffer(MIN_POOLED / 2))
    assert.equal(pool.idleBytes, 0)
  } finally {
    pool.close()
  }
})

test('large bodies in recycled buffers answer exactly, in both codec modes, and the idle bytes are exported', async () => {
  const model = scaleModel(join(tmp(), 'scale.onnx'), 2)
  const body = (rows: number, seed: number) => {
    const x = floats(rows * 4, seed)
    // 17-digit doubles, as numpy's tolist() writes float32 values.
    const text = `{"inputs": [${Array.from(
      {length: rows},
      (_, r) =>
        `[${x
          .slice(r * 4, r * 4 + 4)
          .map((v) => String(Math.fround(v)))
          .join(', ')}]`,
    ).join(', ')}]}`
    return {text, want: x.map((v) => Math.fround(2 * Math.fround(v)))}
  }
  const long = body(40_000, 3)
  const short = body(38_000, 4)
  assert.ok(long.text.length > MiB && short.text.length < long.text.length)
  assert.equal(capacityFor(short.text.length), capacityFor(long.text.length), 'the shorter body fits the longer one’s buffer class')
  for (const codec of ['main', 'worker'] as const) {
    const srv = await serve({models: [{name: 's', path: model}], jsonCodec: codec, batching: {maxBatchSize: 40_000, batchTimeoutMicros: 0}})
    try {
      const check = (b: typeof long, r: Awaited<ReturnType<typeof post>>) => {
        assert.equal(r.status, 200, r.text.slice(0, 200))
        const got = (r.json.outputs as number[][]).flat()
        assert.equal(got.length, b.want.length)
        for (let i = 0; i < got.length; i++) if (Math.fround(got[i]!) !== b.want[i]) assert.fail(`${codec}: value ${i}: ${got[i]} vs ${b.want[i]}`)
      }
      // One at a time (each answer written over the last one's recycled buffer), then four at once
      // (no answer's buffer is recycled while another answer is still being sent from it).
      for (const b of [long, short, long, short]) check(b, await post(`${srv.url}/v1/models/s:predict`, b.text))
      const four = [long, short, short, long]
      const answers = await Promise.all(four.map((b) => post(`${srv.url}/v1/models/s:predict`, b.text)))
      four.forEach((b, i) => check(b, answers[i]!))
      const idle = metric((await get(`${srv.url}/metrics`)).text, 'tfsopt_body_pool_idle_bytes')
      // main: every body decoded on the main thread gives its buffer back; worker: a body the idle
      // worker parses takes its buffer along, so nothing need be idle.
      // The answers (over 1 MiB each) are written into recycled buffers too: more than the body's idle.
      if (codec === 'main') assert.ok(idle > capacityFor(long.text.length), `idle ${idle}`)
      else assert.ok(idle >= 0)
    } finally {
      await srv.close()
    }
  }
})
