/**
 * Scenario 6 — auth and exposure. With --api-key every endpoint but GET /healthz refuses a missing or
 * wrong token with 401 (the comparison hashes both sides and uses timingSafeEqual); the default bind
 * is 127.0.0.1; and no model file outside the configured base paths can be reached by name, version,
 * label or symlink.
 */
import assert from 'node:assert/strict'
import {mkdirSync, readFileSync, renameSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {DEFAULT_MODEL, PACKAGE_ROOT} from '../../src/fixtures.js'
import {makeAuthCheck} from '../../src/server/auth.js'
import {SERVE_DEFAULTS} from '../../src/server/index.js'
import {call, exclusive, report, scaleModel, sleep, startChildServer, startCliServer, tmp, versionedBase, type ChildServer} from './harness.js'

const KEY = 'r3liab1lity-test-key-0123456789abcdef'
const X = JSON.stringify({instances: [[1, 2, 3, 4]]})

describe('auth with --api-key', {timeout: 120_000}, () => {
  let srv: ChildServer
  const tally: Record<string, number> = {}

  before(async () => {
    const base = versionedBase(tmp(), {1: 1})
    srv = await startChildServer({models: [{name: 'scale', path: base, labels: {stable: 1}}], apiKey: KEY, testHooks: true}, {TFSOPT_TEST_HOOKS: '1'})
  })
  after(async () => {
    await srv?.stop()
    report('auth', {requests: tally})
  })

  const endpoints: [string, string, string?][] = [
    ['GET', '/v1/models/scale'],
    ['GET', '/v1/models/scale/versions/1'],
    ['GET', '/v1/models/scale/labels/stable'],
    ['GET', '/v1/models/scale/metadata'],
    ['GET', '/v1/models/scale/versions/1/metadata'],
    ['POST', '/v1/models/scale:predict', X],
    ['POST', '/v1/models/scale/versions/1:predict', X],
    ['POST', '/v1/models/scale/labels/stable:predict', X],
    ['POST', '/v1/models/scale:classify', X],
    ['GET', '/metrics'],
    ['GET', '/monitoring/prometheus/metrics'],
    ['POST', '/v1/_test/kill-worker', ''],
    ['GET', '/v1/models/nope'],
    ['GET', '/nope'],
    ['GET', `/v1/models/scale?api_key=${KEY}`],
  ]
  const wrong: [string, Record<string, string>][] = [
    ['none', {}],
    ['empty bearer', {authorization: 'Bearer '}],
    ['wrong key', {authorization: 'Bearer nope'}],
    ['key prefix', {authorization: `Bearer ${KEY.slice(0, -1)}`}],
    ['key plus a char', {authorization: `Bearer ${KEY}x`}],
    ['key without scheme', {authorization: KEY}],
    ['basic scheme', {authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}`}],
    ['key in another header', {'x-api-key': KEY}],
    ['two keys', {authorization: `Bearer ${KEY}, Bearer ${KEY}`}],
    ['upper-cased key', {authorization: `Bearer ${KEY.toUpperCase()}`}],
    ['query-string key only', {cookie: `api_key=${KEY}`}],
  ]

  it('every endpoint but /healthz refuses missing or wrong tokens with 401 and {"error"}', async () => {
    const fails: string[] = []
    for (const [method, path, body] of endpoints) {
      for (const [what, headers] of wrong) {
        const r = await call(srv.url + path, {method, body, headers})
        tally['401'] = (tally['401'] ?? 0) + (r.status === 401 ? 1 : 0)
        if (r.status !== 401 || typeof r.json?.error !== 'string') fails.push(`${method} ${path} with ${what}: ${r.status} ${r.text.slice(0, 80)}`)
      }
    }
    assert.deepEqual(fails, [])
  })

  it('the right token gets through (kill-worker not called), and /healthz needs none', async () => {
    const auth = {authorization: `Bearer ${KEY}`}
    for (const [method, path, body] of endpoints.filter(([, p]) => !p.includes('kill-worker'))) {
      const r = await call(srv.url + path, {method, body, headers: auth})
      tally[`ok-${r.status}`] = (tally[`ok-${r.status}`] ?? 0) + 1
      assert.notEqual(r.status, 401, `${method} ${path} refused the right key`)
    }
    assert.equal((await call(`${srv.url}/v1/models/scale:predict`, {body: X, headers: {authorization: `bearer   ${KEY}`}})).status, 200)
    const h = await call(`${srv.url}/healthz`)
    assert.equal(h.status, 200)
    assert.deepEqual(Object.keys(h.json), ['status'], 'the health check must not leak anything but its status')
  })
})

describe('token comparison', {timeout: 300_000}, () => {
  it('is constant-time: hashed to fixed length, then timingSafeEqual', () => {
    const src = readFileSync(join(PACKAGE_ROOT, 'src', 'server', 'auth.ts'), 'utf8')
    assert.match(src, /timingSafeEqual\(/)
    assert.match(src, /createHash\('sha256'\)/)
    assert.doesNotMatch(src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''), /[^=!]==?=?\s*apiKey|apiKey\s*===?/)
  })

  it('takes the same time for a near-miss and a far miss (within noise)', () =>
    exclusive(async () => {
      const check = makeAuthCheck(KEY)
      const near = `Bearer ${KEY.slice(0, -1)}_`
      const far = `Bearer ${'_'.repeat(KEY.length)}`
      const time = (h: string) => {
        const t = process.hrtime.bigint()
        for (let i = 0; i < 5000; i++) check(h)
        return Number(process.hrtime.bigint() - t)
      }
      for (let i = 0; i < 5; i++) {
        time(near)
        time(far)
      }
      // Paired, interleaved rounds (order alternating), median of the per-round ratios: a comparison that
      // stops at the first differing byte would make `near` slower in every round; noise does not.
      const ratios: number[] = []
      const ns: number[] = []
      for (let i = 0; i < 31; i++) {
        const [a, b] = i % 2 ? [time(near), time(far)] : ((x, y) => [y, x])(time(far), time(near))
        ratios.push(a / b)
        ns.push(a / 5000, b / 5000)
      }
      const ratio = ratios.sort((p, q) => p - q)[15]!
      report('auth-timing', {nsPerCheck: Math.round(ns.sort((p, q) => p - q)[31]!), medianNearOverFarRatio: Math.round(ratio * 1000) / 1000})
      // One-sided: an early-exit comparison makes the near miss slower; the near miss coming out faster
      // (0.79 once on a loaded CI machine) is JIT and cache noise, not a leak of how many bytes matched.
      assert.ok(ratio < 1.25, `near/far miss time ratio ${ratio}`)
      assert.equal(check(`Bearer ${KEY}`), true)
      assert.equal(check(near), false)
    }))
})

describe('exposure', {timeout: 120_000}, () => {
  it('binds 127.0.0.1 by default (programmatic default and the CLI)', async () => {
    assert.equal(SERVE_DEFAULTS.host, '127.0.0.1')
    const srv = await startCliServer([DEFAULT_MODEL, '--port', '0', '--warmup', '0', '--poll-seconds', '0', '--workers', '1'])
    try {
      assert.equal(new URL(srv.url).hostname, '127.0.0.1')
      // The kernel's own view: the listening socket's local address (Linux).
      let tcp = ''
      try {
        tcp = readFileSync('/proc/net/tcp', 'utf8') + readFileSync('/proc/net/tcp6', 'utf8')
      } catch {
        return
      }
      const hex = srv.port.toString(16).toUpperCase().padStart(4, '0')
      const listening = tcp
        .split('\n')
        .filter((l) => l.includes(`:${hex} `) && / 0A /.test(l))
        .map((l) => l.trim().split(/\s+/)[1])
      assert.deepEqual(listening, [`0100007F:${hex}`], `listening on ${listening.join(', ')}`)
    } finally {
      srv.proc.kill('SIGTERM')
      await srv.exited
    }
  })

  it('no model outside the base paths can be reached by name, version, label or symlink', async () => {
    const base = versionedBase(tmp(), {1: 1})
    const outside = tmp('tfsopt-reliability-outside-')
    mkdirSync(join(outside, '9'))
    scaleModel(join(outside, 'secret.onnx'), 7)
    scaleModel(join(outside, '9', 'model.onnx'), 7)
    const srv = await startChildServer({models: [{name: 'scale', path: base}], pollSeconds: 0.2})
    // Newer versions that lead outside appear while it runs: a directory symlink, and a real directory
    // holding a symlinked model file.
    symlinkSync(join(outside, '9'), join(base, '2'))
    mkdirSync(join(base, '.staging-3'))
    symlinkSync(join(outside, 'secret.onnx'), join(base, '.staging-3', 'model.onnx'))
    renameSync(join(base, '.staging-3'), join(base, '3'))
    await sleep(1000)
    const seen: Record<string, number> = {}
    try {
      const paths = [
        '/v1/models/scale/versions/2:predict',
        '/v1/models/scale/versions/3:predict',
        '/v1/models/scale/versions/9:predict',
        `/v1/models/${encodeURIComponent(join(outside, 'secret.onnx'))}:predict`,
        `/v1/models/${encodeURIComponent(outside)}:predict`,
        '/v1/models/secret:predict',
        '/v1/models/secret.onnx:predict',
        `/v1/models/..%2F${encodeURIComponent(outside.split('/').pop()!)}%2Fsecret.onnx:predict`,
        '/v1/models/scale/labels/..%2F..%2F9:predict',
        `/v1/models/scale/versions/..%2F..%2F${encodeURIComponent(outside.split('/').pop()!)}%2F9:predict`,
        `/v1/models/${encodeURIComponent(DEFAULT_MODEL)}:predict`,
      ]
      for (const p of paths) {
        const r = await call(srv.url + p, {body: X})
        seen[r.status] = (seen[r.status] ?? 0) + 1
        assert.ok(r.status >= 400 && r.status < 500, `${p}: ${r.status} ${r.text.slice(0, 100)}`)
        assert.doesNotMatch(r.text, /"predictions"/)
      }
      // The served version is still the inside one (scale 1), not the newer, outside ones.
      const ok = await call(`${srv.url}/v1/models/scale:predict`, {body: X})
      assert.deepEqual(ok.json, {predictions: [[1, 2, 3, 4]]})
      const st = await call(`${srv.url}/v1/models/scale`)
      report('exposure', {
        probes: paths.length,
        statuses: seen,
        versions: st.json.model_version_status.map((v: any) => `${v.version}:${v.state}:${v.status.error_message.slice(0, 60)}`),
      })
      const v3 = st.json.model_version_status.find((v: any) => v.version === '3')
      assert.ok(v3, 'the escaping version 3 was never tried')
      assert.notEqual(v3.state, 'AVAILABLE')
      assert.match(v3.status.error_message, /outside its base path/)
    } finally {
      await srv.stop()
    }
  })

  it('refuses to start when the version it would serve leads outside its base path', async () => {
    const base = versionedBase(tmp(), {1: 1})
    const outside = tmp('tfsopt-reliability-outside-')
    scaleModel(join(outside, 'secret.onnx'), 7)
    mkdirSync(join(base, '2'))
    symlinkSync(join(outside, 'secret.onnx'), join(base, '2', 'model.onnx'))
    await assert.rejects(startChildServer({models: [{name: 'scale', path: base}]}), /outside its base path/)
  })
})
