/**
 * What an adversarial client can try, each against a real server: bodies built to make the decoder
 * recurse or allocate without bound, integers millions of digits long, sentinel look-alikes, path tricks
 * in model names, bad percent-encoding, bodies over the limit with no declared length, slow headers and
 * slow bodies (slowloris), uploads cut off mid-body, and a cache asked to hold more than --cache-bytes.
 * Every bad request must get a 4xx with {"error": ...} (never a 500 or a crash), and the server must
 * still answer a valid request afterwards.
 */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {connect, type Socket} from 'node:net'
import {join} from 'node:path'
import {get, metric, multiModel, post, scaleModel, serve, stringModel, tmp} from './helpers.js'

const dir = tmp()
const scale = scaleModel(join(dir, 'scale.onnx'), 2)
const multi = multiModel(join(dir, 'multi.onnx'))
const strings = stringModel(join(dir, 'strings.onnx'))
const MAX_BODY = 1_000_000
let srv: Awaited<ReturnType<typeof serve>>

before(async () => {
  srv = await serve({
    models: [
      {name: 's', path: scale},
      {name: 'multi', path: multi},
      {name: 'str', path: strings},
    ],
    maxBodyBytes: MAX_BODY,
    cacheSize: 1000,
    cacheBytes: 2000,
    headersTimeoutSeconds: 1,
    requestTimeoutSeconds: 2,
  })
})
after(() => srv.close())

const predict = (model: string, body: unknown, headers?: Record<string, string>) => post(`${srv.url}/v1/models/${model}:predict`, body, headers)

async function stillServes(): Promise<void> {
  const r = await predict('s', {instances: [[1, 2, 3, 4]]})
  assert.equal(r.status, 200, r.text)
  assert.deepEqual(r.json.predictions, [[2, 4, 6, 8]])
}

function assertClientError(r: {status: number; json: any; text: string}, re: RegExp): void {
  assert.ok(r.status >= 400 && r.status < 500, `expected a 4xx, got ${r.status}: ${r.text.slice(0, 300)}`)
  assert.equal(typeof r.json?.error, 'string', r.text.slice(0, 300))
  assert.match(r.json.error, re)
}

/** Raw HTTP over one socket: everything the server sends until it closes the connection (or `guardMs`). */
function rawExchange(write: (s: Socket) => void | Promise<void>, guardMs = 15_000): Promise<{text: string; closedByServer: boolean}> {
  return new Promise((resolve, reject) => {
    const s = connect(srv.port, '127.0.0.1')
    let text = ''
    let done = false
    const guard = setTimeout(() => {
      done = true
      s.destroy()
      resolve({text, closedByServer: false})
    }, guardMs)
    s.on('data', (d) => (text += d.toString('latin1')))
    s.on('error', () => {}) // a reset after the server gave up is expected
    s.on('close', () => {
      clearTimeout(guard)
      if (!done) resolve({text, closedByServer: true})
    })
    s.on('connect', () => Promise.resolve(write(s)).catch(reject))
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

test('lists nested thousands deep get 400 (small bodies and bodies past the pre-scan size)', async () => {
  const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`
  const small = await predict('s', `{"instances": ${deep(5000)}}`)
  assertClientError(small, /nested more than 32 deep/)
  const large = await predict('s', `{"instances": ${deep(100_000)}}`)
  assertClientError(large, /nests lists\/objects more than 40 deep/)
  // Objects too, and brackets inside strings do not count.
  const objs = await predict('s', `{"inputs": ${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`)
  assertClientError(objs, /more than 40 deep/)
  const inString = await predict('s', {instances: [[1, 2, 3, 4]], pad: '['.repeat(80_000)})
  assert.equal(inString.status, 200, inString.text)
  await stillServes()
})

test('a small ragged body cannot make the decoder allocate a huge tensor', async () => {
  // Shape inferred from the first elements would be [20001, 20000] (400 M floats); the rows disagree.
  const rows = [Array(20_000).fill(0), ...Array.from({length: 20_000}, () => [0])]
  assertClientError(await predict('s', {inputs: rows}), /ragged tensor/)
  // The same through the general (non-float) decoder: an int64 input of the multi model.
  const ints = [Array(20_000).fill(1), ...Array.from({length: 20_000}, () => [1])]
  assertClientError(await predict('multi', {inputs: {a: [[1, 2, 3]], b: ints, flag: [true]}}), /ragged tensor/)
  // Three levels: [2000, 2000, 2000] (8·10^9 elements, past any typed array) inferred from ~6000 numbers.
  const cube = [[Array(2000).fill(0), ...Array(1999).fill([0])], ...Array(1999).fill([[0]])]
  assertClientError(await predict('s', {inputs: cube}), /ragged tensor|shape/)
  await stillServes()
})

test('integers with huge digit counts and sentinel look-alike strings get 400, not 500', async () => {
  const huge = '9'.repeat(200_000)
  const big = await predict('multi', `{"inputs": {"a": [[1, 2, 3]], "b": [[${huge}, 1]], "flag": [true]}}`)
  assertClientError(big, /integers in \[/)
  const neg = await predict('multi', `{"inputs": {"a": [[1, 2, 3]], "b": [[-${'1'.repeat(25)}, 1]], "flag": [true]}}`)
  assertClientError(neg, /integers in \[/)
  // A client string shaped like the parser's internal long-integer sentinel is refused as a string.
  const fake = await predict('multi', {inputs: {a: [[1, 2, 3]], b: [['\u0000Iabc', 1]], flag: [true]}})
  assertClientError(fake, /expected integers/)
  const fakeFloat = await predict('s', {instances: [['\u0000I12x', 1, 2, 3]]})
  assertClientError(fakeFloat, /expected numbers/)
  // A 20-digit uint64/int64 literal still works exactly (the int64 range check then refuses it).
  const edge = await predict('multi', `{"inputs": {"a": [[1, 2, 3]], "b": [[9223372036854775806, -9223372036854775808]], "flag": [false]}}`)
  assert.equal(edge.status, 200, edge.text)
  assert.match(edge.text, /"incremented":\[\[9223372036854775807,-9223372036854775807\]\]/)
  await stillServes()
})

test('path tricks in model names are only ever looked up, never used as paths', async () => {
  const names = [
    '..%2F..%2Fetc%2Fpasswd',
    '%2e%2e',
    '..',
    '.',
    's%2F..%2Fs',
    '%2Fetc%2Fpasswd',
    's%00',
    '..%5C..%5Cwin.ini',
    '%252e%252e%252f',
    's%0D%0AX-Injected%3A%201',
    '%E0%A4%A',
    '%',
    'fixtures%2Fmodels%2Fmnist-mlp.onnx',
    '__proto__',
    'constructor',
  ]
  for (const n of names) {
    for (const path of [`/v1/models/${n}:predict`, `/v1/models/${n}`, `/v1/models/${n}/metadata`]) {
      const r = path.endsWith(':predict') ? await post(srv.url + path, {instances: [[1, 2, 3, 4]]}) : await get(srv.url + path)
      assert.equal(r.status, 404, `${path}: ${r.status} ${r.text.slice(0, 200)}`)
      assert.equal(typeof r.json?.error, 'string')
      assert.equal(r.text.includes('X-Injected: 1\r'), false)
    }
  }
  // Dot segments around a real model name are not normalised into it either.
  for (const path of ['/v1/models/x/../s:predict', '/v1/models/s/versions/1/../2:predict', '//v1/models/s:predict']) {
    const r = await rawExchange(
      (s) => void s.end(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`),
    )
    assert.match(r.text, /^HTTP\/1\.1 404 /, path)
  }
  await stillServes()
})

test('a binary header with broken percent-encoding gets 400', async () => {
  const r = await post(`${srv.url}/v1/models/s:predict`, new Uint8Array(16), {
    'content-type': 'application/octet-stream',
    'x-tfsopt-tensors': '%E0%A4%A:float32:1x4',
  })
  assertClientError(r, /not valid percent-encoding/)
  await stillServes()
})

test('invalid base64 (and NaN) as a b64 value, and a tensor named twice in a binary header, get 400', async () => {
  for (const b of ['!!!!', '====', 'AB=C', 'YW=Jj', 'A']) assertClientError(await predict('str', {instances: [{b64: b}]}), /is not valid base64/)
  assertClientError(await predict('str', '{"instances": [{"b64": NaN}]}'), /NaN.*not valid base64/)
  const ok = await predict('str', {instances: [{b64: Buffer.from('héllo').toString('base64')}, {b64: Buffer.from('a?>').toString('base64url')}]})
  assert.equal(ok.status, 200, ok.text)
  assert.deepEqual(
    ok.json.predictions.map((p: {echo: string}) => p.echo),
    ['héllo', 'a?>'],
  )
  const twice = await post(`${srv.url}/v1/models/s:predict`, new Uint8Array(32), {
    'content-type': 'application/octet-stream',
    'x-tfsopt-tensors': 'x:float32:1x4,x:float32:1x4',
  })
  assertClientError(twice, /lists input 'x' twice/)
  await stillServes()
})

test('broken HTTP framing gets a 4xx with a JSON {"error"} body, then the connection is closed', async () => {
  const cases: [string, RegExp][] = [
    ['HELLO\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['POST /v1/models/s:predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /^HTTP\/1\.1 400 /],
    [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
    ['POST /v1/models/s:predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /^HTTP\/1\.1 400 /],
  ]
  for (const [raw, status] of cases) {
    const r = await rawExchange((s) => void s.write(raw))
    assert.match(r.text, status, JSON.stringify(raw.slice(0, 40)))
    assert.equal(typeof JSON.parse(r.text.slice(r.text.indexOf('\r\n\r\n') + 4)).error, 'string')
    assert.equal(r.closedByServer, true)
  }
  await stillServes()
})

test('a chunked body over the limit gets 413 and the connection is closed, without reading it all', async () => {
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  let sent = 0
  const r = await rawExchange(async (s) => {
    s.write('POST /v1/models/s:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n')
    // Up to 8× the limit, stopping as soon as the server has answered and closed.
    while (sent < 8 * MAX_BODY && !s.destroyed && s.writable) {
      await new Promise<void>((res) => s.write(`${chunk.length.toString(16)}\r\n`, () => s.write(chunk, () => s.write('\r\n', () => res()))))
      sent += chunk.length
    }
  })
  assert.match(r.text, /^HTTP\/1\.1 413 /)
  assert.match(r.text, /larger than --max-body-bytes/)
  assert.equal(r.closedByServer, true)
  assert.ok(sent < 8 * MAX_BODY, 'the server kept reading far past the limit')
  // A declared length over the limit is refused before a byte of the body is read.
  const declared = await rawExchange(
    (s) =>
      void s.write(`POST /v1/models/s:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${MAX_BODY + 1}\r\n\r\n{"instances":`),
  )
  assert.match(declared.text, /^HTTP\/1\.1 413 /)
  assert.equal(declared.closedByServer, true)
  await stillServes()
})

test('slowloris: headers or a body trickled in past the timeouts get the connection closed', async () => {
  // Headers that never finish (one more header line every 300 ms): headersTimeoutSeconds is 1.
  const slowHeaders = await rawExchange(async (s) => {
    s.write('POST /v1/models/s:predict HTTP/1.1\r\nHost: x\r\n')
    for (let i = 0; i < 40 && !s.destroyed; i++) {
      await sleep(300)
      if (!s.destroyed) s.write(`X-Slow-${i}: 1\r\n`)
    }
  })
  assert.equal(slowHeaders.closedByServer, true, 'the server kept a connection whose headers never ended')
  assert.match(slowHeaders.text, /^(HTTP\/1\.1 408 |)/)
  // A body trickled one byte every 300 ms: requestTimeoutSeconds is 2.
  const slowBody = await rawExchange(async (s) => {
    s.write('POST /v1/models/s:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n')
    for (let i = 0; i < 40 && !s.destroyed; i++) {
      await sleep(300)
      if (!s.destroyed) s.write(' ')
    }
  })
  assert.equal(slowBody.closedByServer, true, 'the server kept a connection whose body never ended')
  await stillServes()
})

test('uploads cut off mid-body leave nothing in flight: close() does not wait for the drain timeout', async () => {
  const own = await serve({models: [{name: 's', path: scale}], drainTimeoutSeconds: 120})
  const body = JSON.stringify({instances: [[1, 2, 3, 4]]})
  for (let i = 0; i < 10; i++) {
    await new Promise<void>((resolve) => {
      const s = connect(own.port, '127.0.0.1', () => {
        s.write(`POST /v1/models/s:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
        setTimeout(() => {
          s.destroy()
          resolve()
        }, 50)
      })
      s.on('error', () => {})
    })
  }
  await sleep(200)
  let guard: NodeJS.Timeout | undefined
  const closed = await Promise.race([
    own.close().then(() => 'closed'),
    new Promise((r) => (guard = setTimeout(r, 60_000, 'still waiting for aborted uploads'))),
  ])
  clearTimeout(guard)
  assert.equal(closed, 'closed')
})

test('the cache never holds more than --cache-bytes, however many distinct requests arrive', async () => {
  for (let i = 0; i < 40; i++) assert.equal((await predict('s', {instances: [[i, i, i, i + 1]]})).status, 200)
  const m = (await get(`${srv.url}/metrics`)).text
  assert.ok(metric(m, 'tfsopt_cache_bytes') <= 2000, `cache holds ${metric(m, 'tfsopt_cache_bytes')} bytes`)
  assert.ok(metric(m, 'tfsopt_cache_entries') >= 1)
  assert.ok(metric(m, 'tfsopt_cache_evictions_total', {model: 's'}) > 0)
  // A repeated request is still a hit.
  await predict('s', {instances: [[39, 39, 39, 40]]})
  const m2 = (await get(`${srv.url}/metrics`)).text
  assert.ok(metric(m2, 'tfsopt_cache_hits_total', {model: 's'}) >= 1)
})
