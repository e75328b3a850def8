/**
 * Scenario 1 — hostile input. A seeded corpus (corpus.ts; default 10,000 cases, seed 20261121; override
 * with TFSOPT_HOSTILE_SEED / TFSOPT_HOSTILE_COUNT) is sent to a real server. Each malformed request is
 * followed by a valid one on the same connection (a fresh one where the server rightly closed it), so
 * a bad request that poisons the connection, the batcher or a worker shows up at once.
 * Expect: no crash, every answer 4xx with {"error": "..."}, every valid request answered correctly,
 * server memory back near its baseline.
 * Speed: pipelined over 4 keep-alive connections, 32 requests in flight on each.
 */
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {openSession} from '../../src/runtime/load.js'
import {mulberry32} from '../../src/stats/prng.js'
import {CATEGORIES, generateCorpus, mnistRow, validMnist, validMulti, validText, type HostileCase} from './corpus.js'
import {countBy, mb, metric, multiModel, report, startChildServer, textModel, tmp, type ChildServer, exclusive} from './harness.js'
import {RawConnection, abortedUpload, buildRequest, once, slowUpload, type RawResponse} from './raw-http.js'

const SEED = Number(process.env.TFSOPT_HOSTILE_SEED ?? 20261121)
const COUNT = Number(process.env.TFSOPT_HOSTILE_COUNT ?? 10_000)
const MAX_BODY = 256 * 1024
const MAX_BATCH = 8
const DEADLINE_MS = 150_000

interface Valid {
  model: string
  body: string
  bytes: Buffer
  expected?: unknown
}
interface Outcome {
  c: HostileCase
  status: number
  jsonError: boolean
  detail: string
  validOk: boolean
  validDetail: string
}

/** Numbers equal within float32 noise, everything else exactly (batch position may reorder sums). */
function close(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(b)
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => close(x, b[i]))
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort()
    return ka.join() === Object.keys(b).sort().join() && ka.every((k) => close((a as never)[k], (b as never)[k]))
  }
  return a === b
}

const parse = (r: RawResponse): any => {
  try {
    return JSON.parse(r.body.toString('utf8'))
  } catch {
    return undefined
  }
}

describe('hostile input', {timeout: 400_000}, () => {
  let srv: ChildServer
  let valids: Valid[] = []
  const outcomes: Outcome[] = []
  let memBefore: Awaited<ReturnType<ChildServer['mem']>>
  let memAfter: Awaited<ReturnType<ChildServer['mem']>>
  let corpusMs = 0
  let stopMs = NaN
  let stopCode: number | null = null
  let metricsText = ''

  before(() =>
    exclusive(async () => {
      const dir = tmp()
      srv = await startChildServer(
        {
          models: [
            {name: 'mnist', path: DEFAULT_MODEL},
            {name: 'multi', path: multiModel(join(dir, 'multi.onnx'))},
            {name: 'text', path: textModel(join(dir, 'text.onnx'))},
          ],
          maxBodyBytes: MAX_BODY,
          batching: {maxBatchSize: MAX_BATCH},
          testHooks: false,
        },
        {TFSOPT_TEST_HOOKS: '0'},
      )
      const rng = mulberry32(SEED ^ 0x5eed)
      valids = [
        {model: 'mnist', body: validMnist(rng)},
        {model: 'mnist', body: validMnist(rng)},
        {model: 'multi', body: validMulti(rng)},
        {model: 'text', body: validText(rng)},
      ].map((v) => ({...v, bytes: buildRequest({path: `/v1/models/${v.model}:predict`, body: v.body, headers: {'content-type': 'application/json'}})}))
      // The reference answers: MNIST from the runtime directly, the others from their definitions.
      const session = await openSession(DEFAULT_MODEL, {device: 'cpu', intraOpThreads: 1})
      try {
        for (const v of valids) {
          const inst = JSON.parse(v.body).instances
          if (v.model === 'mnist') {
            const out = await session.run({input: {dtype: 'float32', dims: [1, 784], data: Float32Array.from(inst[0])}})
            v.expected = {predictions: [Array.from(out.probabilities!.data as Float32Array)]}
          } else if (v.model === 'multi') {
            v.expected = {
              predictions: inst.map((r: any) => ({
                doubled: r.a.map((x: number) => Math.fround(x) * 2),
                incremented: r.b.map((x: number) => x + 1),
                negated: !r.flag,
              })),
            }
          } else {
            const words = inst.map((x: any) => (typeof x === 'string' ? x : Buffer.from(x.b64, 'base64').toString()))
            v.expected = {predictions: words.map((w: string) => ({echo: w, echo_bytes: {b64: Buffer.from(w).toString('base64')}}))}
          }
        }
      } finally {
        await session.dispose()
      }
      // Warm up (JIT, pools, batcher) before the memory baseline: 800 valid requests.
      const c = new RawConnection(srv.port)
      await c.ready()
      const warm: Promise<RawResponse>[] = []
      for (let i = 0; i < 800; i++) warm.push(c.request(valids[i % valids.length]!.bytes))
      const answers = await Promise.all(warm)
      c.close()
      for (const [i, r] of answers.entries()) {
        assert.equal(r.status, 200, `warm-up request ${i}: ${r.body.toString().slice(0, 200)}`)
        const v = valids[i % valids.length]!
        assert.ok(
          close(parse(r), v.expected),
          `valid ${v.model} request answered ${r.body.toString().slice(0, 300)}, expected ${JSON.stringify(v.expected).slice(0, 300)}`,
        )
      }
      memBefore = await srv.mem()

      const corpus = generateCorpus(SEED, COUNT, {maxBodyBytes: MAX_BODY, maxBatchSize: MAX_BATCH})
      const t0 = performance.now()
      const deadline = t0 + DEADLINE_MS
      const checkValid = (o: Outcome, v: Valid, r: RawResponse | Error) => {
        if (r instanceof Error) o.validDetail = `valid ${v.model} request failed: ${r.message}`
        else if (r.status !== 200) o.validDetail = `valid ${v.model} request got ${r.status}: ${r.body.toString().slice(0, 200)}`
        else if (!close(parse(r), v.expected)) o.validDetail = `valid ${v.model} request answered wrongly: ${r.body.toString().slice(0, 200)}`
        else o.validOk = true
      }
      const record = (c: HostileCase, r: RawResponse | Error): Outcome => {
        const o: Outcome = {c, status: 0, jsonError: false, detail: '', validOk: false, validDetail: ''}
        if (r instanceof Error) o.detail = `no answer: ${r.message}`
        else {
          o.status = r.status
          const j = parse(r)
          o.jsonError = typeof j?.error === 'string' && j.error.length > 0
          o.detail = r.body.toString('utf8').slice(0, 160)
        }
        outcomes.push(o)
        return o
      }
      const validFor = (c: HostileCase) => valids[c.id % valids.length]!
      const freshValid = async (o: Outcome) => {
        const v = validFor(o.c)
        checkValid(o, v, await once(srv.port, v.bytes).catch((e: Error) => e))
      }

      // Pipelined categories: 4 connections, each with up to 16 (bad, valid) pairs in flight.
      const piped = corpus.filter((c) => c.delivery === 'pipeline')
      const lanes = 4
      const pipeLane = async (lane: number) => {
        let conn = new RawConnection(srv.port)
        await conn.ready()
        const inflight: Promise<unknown>[] = []
        for (let k = lane; k < piped.length && performance.now() < deadline; k += lanes) {
          const c = piped[k]!
          const v = validFor(c)
          const bad = conn.request(c.bytes).catch((e: Error) => e)
          const good = conn.request(v.bytes).catch((e: Error) => e)
          inflight.push(Promise.all([bad, good]).then(([b, g]) => checkValid(record(c, b), v, g)))
          if (inflight.length >= 16) await inflight.shift()
          if (conn.closed) {
            await Promise.all(inflight.splice(0))
            conn = new RawConnection(srv.port)
            await conn.ready()
          }
        }
        await Promise.all(inflight)
        conn.close()
      }
      // The rest one connection each: the server may rightly close it (413, broken framing).
      const alone = corpus.filter((c) => c.delivery !== 'pipeline')
      let next = 0
      const aloneWorker = async () => {
        while (next < alone.length && performance.now() < deadline) {
          const c = alone[next++]!
          if (c.delivery === 'abort') {
            await abortedUpload(srv.port, c.bytes, c.abortAt!, 5).catch(() => {})
            const o: Outcome = {c, status: -1, jsonError: true, detail: 'aborted', validOk: false, validDetail: ''}
            outcomes.push(o)
            await freshValid(o)
          } else {
            const r =
              c.delivery === 'slow' ? await slowUpload(srv.port, c.bytes, 5, 30).catch((e: Error) => e) : await once(srv.port, c.bytes).catch((e: Error) => e)
            await freshValid(record(c, r))
          }
        }
      }
      await Promise.all([...Array.from({length: lanes}, (_, i) => pipeLane(i)), ...Array.from({length: 8}, aloneWorker)])
      corpusMs = performance.now() - t0
      assert.ok(performance.now() < deadline, `the corpus did not finish within ${DEADLINE_MS / 1000} s`)
      metricsText = await (await fetch(`${srv.url}/metrics`)).text()
      memAfter = await srv.mem()
    }),
  )

  after(async () => {
    if (!srv) return
    if (srv.alive()) await srv.stop(40_000)
    const byCat = (pred: (o: Outcome) => boolean) => countBy(outcomes.filter(pred), (o) => o.c.category)
    const statuses = countBy(outcomes, (o) => (o.status === -1 ? 'aborted' : o.status === 0 ? 'no-answer' : o.status))
    report('hostile-input', {
      seed: SEED,
      cases: outcomes.length,
      validRequests: outcomes.length,
      seconds: Math.round(corpusMs) / 1000,
      statuses,
      non4xxByCategory: byCat((o) => o.status !== -1 && !(o.status >= 400 && o.status < 500)),
      noJsonErrorByCategory: byCat((o) => o.status !== -1 && !o.jsonError),
      validFailures: outcomes.filter((o) => !o.validOk).length,
      rssMB: {before: mb(memBefore?.rss ?? NaN), after: mb(memAfter?.rss ?? NaN)},
      heapUsedMB: {before: mb(memBefore?.heapUsed ?? NaN), after: mb(memAfter?.heapUsed ?? NaN)},
      workerRestarts: metric(metricsText, 'tfsopt_worker_restarts_total') || 0,
      stopSeconds: Math.round(stopMs) / 1000,
      stopExit: stopCode,
    })
  })

  it('sent the whole corpus, every category represented', () => {
    assert.equal(outcomes.length, COUNT)
    const cats = new Set(outcomes.map((o) => o.c.category))
    if (COUNT >= 2000) for (const c of CATEGORIES) assert.ok(cats.has(c.name), `category ${c.name} missing`)
  })

  it('the server never crashed: still alive, no worker restarted', () => {
    assert.ok(srv.alive(), `the server exited: ${srv.stderr()}`)
    assert.equal(metric(metricsText, 'tfsopt_worker_restarts_total') || 0, 0)
  })

  it('no answer was a 5xx (an internal error is a crash the server caught)', () => {
    const fives = outcomes.filter((o) => o.status >= 500)
    assert.equal(
      fives.length,
      0,
      `${fives.length} answers were 5xx, e.g.\n${fives
        .slice(0, 5)
        .map((o) => `${o.c.category}#${o.c.id}: ${o.status} ${o.detail}`)
        .join('\n')}`,
    )
  })

  for (const cat of CATEGORIES) {
    if (cat.delivery === 'abort') continue
    it(`${cat.name}: every answer is a 4xx with {"error": ...}`, () => {
      const mine = outcomes.filter((o) => o.c.category === cat.name)
      const bad = mine.filter((o) => !(o.status >= 400 && o.status < 500) || !o.jsonError)
      const show = bad
        .slice(0, 5)
        .map((o) => `#${o.c.id} → ${o.status || 'none'} ${o.detail} | request: ${JSON.stringify(o.c.bytes.subarray(0, 200).toString('latin1'))}`)
      assert.equal(bad.length, 0, `${bad.length} of ${mine.length} ${cat.name} cases were not answered 4xx + {"error"}, e.g.\n${show.join('\n')}`)
    })
  }

  it('a valid request right after each bad one is answered correctly', () => {
    const bad = outcomes.filter((o) => !o.validOk)
    assert.equal(
      bad.length,
      0,
      `${bad.length} valid requests failed, e.g.\n${bad
        .slice(0, 5)
        .map((o) => `after ${o.c.category}#${o.c.id}: ${o.validDetail}`)
        .join('\n')}`,
    )
  })

  it('server memory is back near its baseline (after GC)', () => {
    // Heap growth would mean requests leave something behind; RSS is allowed the allocator's slack.
    assert.ok(memAfter.heapUsed - memBefore.heapUsed < 8 * 1048576, `heap grew from ${mb(memBefore.heapUsed)} to ${mb(memAfter.heapUsed)} MB`)
    assert.ok(memAfter.rss - memBefore.rss < 64 * 1048576, `RSS grew from ${mb(memBefore.rss)} to ${mb(memAfter.rss)} MB`)
  })

  it('a slow but valid upload is still answered correctly', async () => {
    const v = valids[0]!
    const r = await slowUpload(srv.port, v.bytes, 10, 50)
    assert.equal(r.status, 200)
    assert.ok(close(parse(r), v.expected))
  })

  it('aborted uploads leave nothing in flight: a graceful stop takes seconds, not the drain timeout', async () => {
    // Fresh aborted uploads right before the stop, cut inside the headers and inside the body.
    const v = valids[0]!
    await Promise.all(Array.from({length: 20}, (_, i) => abortedUpload(srv.port, v.bytes, i % 2 ? 40 : v.bytes.length - 100, 20)))
    const t = performance.now()
    stopCode = await srv.stop(40_000)
    stopMs = performance.now() - t
    assert.equal(stopCode, 0)
    assert.ok(stopMs < 10_000, `stop took ${Math.round(stopMs)} ms`)
  })

  it('the generator is seedable: the same seed gives the same bytes', () => {
    const o = {maxBodyBytes: MAX_BODY, maxBatchSize: MAX_BATCH}
    const a = generateCorpus(7, 300, o)
    const b = generateCorpus(7, 300, o)
    const c = generateCorpus(8, 300, o)
    assert.ok(a.every((x, i) => x.bytes.equals(b[i]!.bytes) && x.category === b[i]!.category))
    assert.ok(a.some((x, i) => !x.bytes.equals(c[i]!.bytes)))
    assert.equal(mnistRow(mulberry32(1)).length, 784)
  })
})
