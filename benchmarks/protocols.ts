/**
 * Wire protocols side by side, in one run (not a timed test): the same server (a child process) with
 * REST and gRPC on, the same tensors in each protocol, alternating short load points round by round
 * (order rotated every round) so a noisy machine hits every protocol alike.
 *   A. MNIST MLP, 32 concurrent requests: throughput of TF Serving REST JSON, TF Serving gRPC
 *      (tensor_content), KServe v2 JSON and v2 binary; goal gRPC ÷ REST JSON ≥ 1
 *   B. PP-OCR det [1,3,S,S], batch 1, 2 concurrent requests: served ÷ in-process session.run loop for
 *      TF Serving gRPC (tensor_content) and v2 binary; goal ≥ 0.85 each
 * HTTP load is autocannon's; gRPC load is tfsopt's own generator (src/bench/grpc-load.ts, 4 channels).
 * Usage: node --import tsx benchmarks/protocols.ts [--seconds 5] [--rounds 3] [--det-size 320] [--only AB]
 */
import type {ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {availableParallelism, cpus} from 'node:os'
import autocannon from 'autocannon'
import {GrpcLoad} from '../src/bench/grpc-load.js'
import {grpcRequest, httpRequest, type Protocol} from '../src/bench/protocol-bodies.js'
import {DEFAULT_MODEL, packagedModel} from '../src/fixtures.js'
import type {TensorInfo} from '../src/models/dtypes.js'
import {openSession} from '../src/runtime/load.js'
import {startServer} from '../src/server/index.js'
import {arg, loopRate, median, reporter, startSelfChild} from './support.js'

const SECONDS = Number(arg('seconds', '5'))
const ROUNDS = Number(arg('rounds', '3'))
const DET = Number(arg('det-size', '320'))
const ONLY = arg('only', 'AB')

async function child(model: string): Promise<void> {
  const s = await startServer({
    models: [{name: 'm', path: model}],
    port: 0,
    grpcPort: 0,
    // Outputs as raw bytes, as the clients these figures stand for ask (TF Serving's --enable_serialization_as_tensor_content).
    grpcTensorContent: true,
    workers: Number(arg('workers', '1')),
    intraOpThreads: Number(arg('threads', '1')),
    batching: arg('batch1', '') ? {maxBatchSize: 1} : {},
    log: () => {},
  })
  process.stdout.write(`READY ${s.port} ${s.grpcPort}\n`)
}

async function startChild(model: string, extra: string[]): Promise<Server> {
  const {fields, proc} = await startSelfChild(import.meta.url, ['--model', model, ...extra])
  return {port: Number(fields[0]), grpcPort: Number(fields[1]), proc}
}

interface Point {
  rps: number
  errors: number
  /** CPU per request (µs): the server process (all threads, /proc) and this process (the load generator). */
  serverUs: number
  clientUs: number
}

/** CPU seconds (user + system, all threads) a process has used so far; NaN where /proc is missing. */
function processCpu(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(f[11]) + Number(f[12])) / 100
  } catch {
    return NaN
  }
}

/** Runs one measured interval and charges both processes' CPU to its requests. */
async function timed(pid: number | undefined, run: () => Promise<{ok: number; errors: number}>): Promise<Point> {
  const s0 = processCpu(pid)
  const c0 = process.cpuUsage()
  const r = await run()
  const c = process.cpuUsage(c0)
  const n = Math.max(1, r.ok)
  return {rps: r.ok / SECONDS, errors: r.errors, serverUs: ((processCpu(pid) - s0) / n) * 1e6, clientUs: (c.user + c.system) / n}
}

interface Server {
  port: number
  grpcPort: number
  proc: ChildProcess
}

async function httpPoint(
  srv: Server,
  p: Exclude<Protocol, 'tfs-grpc' | 'v2-grpc'>,
  restBody: string,
  inputs: TensorInfo[],
  connections: number,
): Promise<Point> {
  const r = httpRequest(p, 'm', restBody, inputs)
  const opts = {url: `http://127.0.0.1:${srv.port}${r.path}`, method: 'POST' as const, body: r.body, headers: r.headers, connections}
  await autocannon({...opts, duration: 1})
  return timed(srv.proc.pid, async () => {
    const res = await autocannon({...opts, duration: SECONDS})
    return {ok: res['2xx'], errors: res.non2xx + res.errors}
  })
}

async function grpcPoint(srv: Server, restBody: string, inputs: TensorInfo[], concurrency: number): Promise<Point> {
  const bytes = grpcRequest('tfs-grpc', 'm', restBody, inputs)
  const g = new GrpcLoad({mode: 'closed', target: `127.0.0.1:${srv.grpcPort}`, concurrency, requests: {next: () => bytes, clientBatch: 1}})
  await g.start()
  await new Promise((r) => setTimeout(r, 1000))
  g.rotate()
  const p = await timed(srv.proc.pid, async () => {
    await new Promise((r) => setTimeout(r, SECONDS * 1000))
    const w = g.rotate()
    return {ok: w.ok, errors: w.non2xx + w.timeouts + w.connection}
  })
  await g.stop()
  return p
}

const fmtPoint = (p: Point) =>
  `${p.rps.toFixed(0)} req/s (CPU/req: server ${p.serverUs.toFixed(0)} µs, client ${p.clientUs.toFixed(0)} µs${p.errors ? `; ${p.errors} errors` : ''})`
const rotate = <T>(xs: T[], r: number) => [...xs.slice(r % xs.length), ...xs.slice(0, r % xs.length)]

async function main(): Promise<void> {
  const {say, done} = reporter()
  say(`machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, node ${process.version}; ${SECONDS} s per point after a 1 s warm-up`)
  if (ONLY.includes('A')) await mnist(say)
  if (ONLY.includes('B')) await detector(say)
  done()
}

async function mnist(say: (s: string) => void): Promise<void> {
  const row = Array.from({length: 784}, (_, i) => Math.round((((i * 37) % 256) / 255) * 1000) / 1000)
  const body = JSON.stringify({instances: [row]})
  const inputs: TensorInfo[] = [{name: 'input', dtype: 'float32', shape: ['batch', 784]}]
  const srv = await startChild(DEFAULT_MODEL, ['--threads', '1', '--workers', '1'])
  const kinds = ['tfs-rest', 'tfs-grpc', 'v2-rest', 'v2-rest-binary'] as const
  const got: Record<string, Point[]> = Object.fromEntries(kinds.map((k) => [k, []]))
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const k of rotate([...kinds], r)) got[k]!.push(k === 'tfs-grpc' ? await grpcPoint(srv, body, inputs, 32) : await httpPoint(srv, k, body, inputs, 32))
      say(`   round ${r + 1}: ${kinds.map((k) => `${k} ${fmtPoint(got[k]![r]!)}`).join(' | ')}`)
    }
  } finally {
    srv.proc.kill('SIGTERM')
    await new Promise((r) => srv.proc.once('exit', r))
  }
  const ratios = got['tfs-grpc']!.map((g, i) => g.rps / got['tfs-rest']![i]!.rps)
  say(
    `A. MNIST MLP, 32 concurrent, ${ROUNDS} rotating rounds, median req/s: ${kinds.map((k) => `${k} ${median(got[k]!.map((p) => p.rps)).toFixed(0)}`).join(', ')}; gRPC ÷ REST JSON per round ${ratios.map((x) => x.toFixed(3)).join(', ')} → median ${median(ratios).toFixed(3)} (goal ≥ 1)`,
  )
}

async function detector(say: (s: string) => void): Promise<void> {
  const det = packagedModel('ppocr-det')!
  const cores = availableParallelism()
  const n = 3 * DET * DET
  const x = new Float32Array(n).map((_, i) => (i % 255) / 255)
  const inputs: TensorInfo[] = [{name: 'x', dtype: 'float32', shape: ['batch', 3, 'h', 'w']}]
  // The bench's bodies are TF Serving JSON; each protocol re-encodes the same tensor from it.
  const body = JSON.stringify({
    inputs: {x: [[0, 1, 2].map((c) => Array.from({length: DET}, (_, h) => Array.from(x.subarray(c * DET * DET + h * DET, c * DET * DET + (h + 1) * DET))))]},
  })
  const s = await openSession(det, {device: 'cpu', intraOpThreads: cores})
  const feeds = {x: {dtype: 'float32' as const, dims: [1, 3, DET, DET], data: x}}
  await s.run(feeds)
  const inProcess = () => loopRate(SECONDS, () => s.run(feeds))
  const srv = await startChild(det, ['--threads', String(cores), '--workers', '1', '--batch1', '1'])
  const got: Record<string, number[]> = {inproc: [], grpc: [], v2bin: []}
  const errors: number[] = []
  try {
    const steps: [string, () => Promise<number>][] = [
      ['inproc', inProcess],
      [
        'grpc',
        async () => {
          const p = await grpcPoint(srv, body, inputs, 2)
          errors.push(p.errors)
          return p.rps
        },
      ],
      [
        'v2bin',
        async () => {
          const p = await httpPoint(srv, 'v2-rest-binary', body, inputs, 2)
          errors.push(p.errors)
          return p.rps
        },
      ],
    ]
    for (let r = 0; r < ROUNDS; r++) {
      for (const [k, run] of rotate(steps, r)) got[k]!.push(await run())
      say(
        `   round ${r + 1}: in-process ${got.inproc![r]!.toFixed(2)} inf/s | gRPC tensor_content ${got.grpc![r]!.toFixed(2)} req/s | v2 binary ${got.v2bin![r]!.toFixed(2)} req/s`,
      )
    }
  } finally {
    srv.proc.kill('SIGTERM')
    await new Promise((r) => srv.proc.once('exit', r))
    await s.dispose()
  }
  const ratio = (k: string) => got[k]!.map((v, i) => v / got.inproc![i]!)
  say(
    `B. PP-OCR det [1,3,${DET},${DET}], 1 worker × ${cores} threads, batch 1, 2 concurrent, ${ROUNDS} rotating rounds (${errors.reduce((a, b) => a + b, 0)} errors): served ÷ in-process per round — gRPC ${ratio(
      'grpc',
    )
      .map((v) => v.toFixed(3))
      .join(', ')} → median ${median(ratio('grpc')).toFixed(3)}; v2 binary ${ratio('v2bin')
      .map((v) => v.toFixed(3))
      .join(', ')} → median ${median(ratio('v2bin')).toFixed(3)} (goal ≥ 0.85)`,
  )
}

if (process.argv.includes('--child')) await child(arg('model', DEFAULT_MODEL))
else await main()
