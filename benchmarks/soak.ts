/**
 * Soak test for `tfsopt serve` (scenario 7 of docs/RELIABILITY.md; not part of CI): a bounded run of
 * steady closed-loop load plus a trickle of hostile requests, reporting per window the throughput,
 * p50/p99 latency and the server's RSS and heap (after a forced GC), then the drift over the run:
 * RSS and heap growth per minute (least squares over the windows after the first) and last/first p99.
 *
 *   npx tsx benchmarks/soak.ts [--minutes 10] [--concurrency 8] [--window-seconds 10] [--workers 1]
 *                         [--hostile-per-second 50] [--max-heap-growth-mb-per-min 1] [--max-p99-ratio 2]
 *
 * Prints one JSON object on stdout, a line per window on stderr; exits 1 when a drift bound is broken.
 * All traffic goes to 127.0.0.1. The server runs in a child (test/reliability/server-child.ts), the
 * same `startServer` the CLI runs, so its memory is measured apart from this load generator's.
 */
import {parseArgs} from 'node:util'
import {DEFAULT_MODEL} from '../src/fixtures.js'
import {mulberry32} from '../src/stats/prng.js'
import {generateCorpus, validMnist} from '../test/reliability/corpus.js'
import {cpuOf, mb, quantile, runLoad, sleep, startChildServer, type Sample} from '../test/reliability/harness.js'
import {RawConnection, buildRequest} from '../test/reliability/raw-http.js'

const {values: a} = parseArgs({
  options: {
    minutes: {type: 'string', default: '10'},
    concurrency: {type: 'string', default: '8'},
    'window-seconds': {type: 'string', default: '10'},
    workers: {type: 'string', default: '1'},
    'hostile-per-second': {type: 'string', default: '50'},
    'max-heap-growth-mb-per-min': {type: 'string', default: '1'},
    'max-p99-ratio': {type: 'string', default: '2'},
    seed: {type: 'string', default: '1'},
  },
})
const minutes = Number(a.minutes)
const windowMs = Number(a['window-seconds']) * 1000
const hostileRate = Number(a['hostile-per-second'])

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length
  if (n < 2) return NaN
  const mx = xs.reduce((p, q) => p + q, 0) / n
  const my = ys.reduce((p, q) => p + q, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return num / den
}

const srv = await startChildServer({
  models: [{name: 'mnist', path: DEFAULT_MODEL}],
  workers: Number(a.workers),
  maxBodyBytes: 256 * 1024,
  batching: {maxBatchSize: 8},
})
const rng = mulberry32(Number(a.seed))
const bodies = Array.from({length: 16}, () => validMnist(rng))
const url = `${srv.url}/v1/models/mnist:predict`
const totalMs = minutes * 60_000
const t0 = performance.now()
let stop!: () => void
const stopped = new Promise<void>((r) => (stop = r))

// Steady load; samples are cut into windows as they complete.
let pending: Sample[] = []
const load = runLoad({
  url,
  body: (i) => bodies[i % bodies.length]!,
  concurrency: Number(a.concurrency),
  durationMs: totalMs,
  maxRequests: 1e9,
  t0,
  stop: stopped,
  onReply: (s) => pending.push(s),
})

let done = false

// A trickle of hostile requests (pipelined cases only), each followed by a valid one on the same connection.
let hostileSent = 0
let hostileNon4xx = 0
let validAfterBadFailed = 0
const hostile = (async () => {
  if (hostileRate <= 0) return
  const corpus = generateCorpus(Number(a.seed), 10_000, {maxBodyBytes: 256 * 1024, maxBatchSize: 8}).filter((c) => c.delivery === 'pipeline')
  const valid = buildRequest({path: '/v1/models/mnist:predict', body: bodies[0]!, headers: {'content-type': 'application/json'}})
  let conn = new RawConnection(srv.port)
  await conn.ready()
  for (let i = 0; performance.now() - t0 < totalMs && !done; i++) {
    const c = corpus[i % corpus.length]!
    const [bad, good] = await Promise.all([conn.request(c.bytes).catch(() => undefined), conn.request(valid).catch(() => undefined)])
    hostileSent++
    if (!bad || bad.status < 400 || bad.status >= 500) hostileNon4xx++
    if (good?.status !== 200) validAfterBadFailed++
    if (conn.closed) {
      conn = new RawConnection(srv.port)
      await conn.ready()
    }
    await sleep(1000 / hostileRate)
  }
  conn.close()
})().catch((err: Error) => {
  process.stderr.write(`hostile lane stopped: ${err.message}; server alive: ${srv.alive()}; server stderr: ${srv.stderr().slice(-2000)}\n`)
})

interface Window {
  tMin: number
  requests: number
  okPerSec: number
  errors: number
  p50ms: number
  p99ms: number
  rssMB: number
  heapMB: number
  serverCpu: number
}
const windows: Window[] = []
let cpuPrev = cpuOf(srv.pid)
while (performance.now() - t0 < totalMs) {
  await sleep(Math.min(windowMs, totalMs - (performance.now() - t0)))
  const batch = pending
  pending = []
  const mem = await srv.mem()
  const cpu = cpuOf(srv.pid)
  const ok = batch.filter((s) => s.status === 200)
  const w: Window = {
    tMin: Math.round(((performance.now() - t0) / 60_000) * 100) / 100,
    requests: batch.length,
    okPerSec: Math.round(ok.length / (windowMs / 1000)),
    errors: batch.length - ok.length,
    p50ms:
      Math.round(
        quantile(
          ok.map((s) => s.ms),
          0.5,
        ) * 100,
      ) / 100,
    p99ms:
      Math.round(
        quantile(
          ok.map((s) => s.ms),
          0.99,
        ) * 100,
      ) / 100,
    rssMB: mb(mem.rss),
    heapMB: mb(mem.heapUsed),
    serverCpu: Math.round(((cpu - cpuPrev) / (windowMs / 1000)) * 100) / 100,
  }
  cpuPrev = cpu
  windows.push(w)
  process.stderr.write(
    `${w.tMin.toFixed(2)} min: ${w.okPerSec}/s ok, ${w.errors} errors, p50 ${w.p50ms} ms, p99 ${w.p99ms} ms, RSS ${w.rssMB} MB, heap ${w.heapMB} MB, server CPU ${w.serverCpu}\n`,
  )
}
done = true
stop()
await Promise.all([load, hostile])
const code = await srv.stop()

// The first window holds the warm-up (JIT, allocator growth): drift is measured over the rest.
const steady = windows.length > 2 ? windows.slice(1) : windows
const t = steady.map((w) => w.tMin)
const drift = {
  rssMBPerMin:
    Math.round(
      slope(
        t,
        steady.map((w) => w.rssMB),
      ) * 100,
    ) / 100,
  heapMBPerMin:
    Math.round(
      slope(
        t,
        steady.map((w) => w.heapMB),
      ) * 100,
    ) / 100,
  p99FirstMs: steady[0]?.p99ms,
  p99LastMs: steady.at(-1)?.p99ms,
  p99Ratio: Math.round(((steady.at(-1)?.p99ms ?? NaN) / (steady[0]?.p99ms ?? NaN)) * 100) / 100,
}
const failures: string[] = []
if (drift.heapMBPerMin > Number(a['max-heap-growth-mb-per-min'])) failures.push(`heap grows ${drift.heapMBPerMin} MB/min`)
if (drift.p99Ratio > Number(a['max-p99-ratio'])) failures.push(`p99 drifted ×${drift.p99Ratio}`)
if (windows.some((w) => w.errors > 0)) failures.push(`${windows.reduce((p, w) => p + w.errors, 0)} failed requests`)
if (hostileNon4xx) failures.push(`${hostileNon4xx} hostile requests not answered 4xx`)
if (validAfterBadFailed) failures.push(`${validAfterBadFailed} valid requests after a hostile one failed`)
if (code !== 0) failures.push(`server exit code ${code}`)
process.stdout.write(
  `${JSON.stringify(
    {
      minutes,
      concurrency: Number(a.concurrency),
      workers: Number(a.workers),
      requests: windows.reduce((p, w) => p + w.requests, 0),
      hostile: {sent: hostileSent, non4xx: hostileNon4xx, validAfterFailed: validAfterBadFailed},
      windows,
      drift,
      serverExit: code,
      failures,
    },
    null,
    2,
  )}\n`,
)
process.exit(failures.length ? 1 : 0)
