/**
 * The JSON data path (issue 11's targets), measured side by side in one run (not a timed test):
 *   1. PP-OCRv4 det [1,3,S,S], columnar JSON, 2 connections, served ÷ in-process session.run, for
 *      numpy-style 17-digit floats (each float32 written as the shortest repr of the double it widens
 *      to, as `tolist()` + json.dumps writes it: 0.1f → 0.10000000149011612; goal ≥ 0.60) and 6-digit
 *      floats (goal ≥ 0.70), for both --json-codec modes. Rounds alternate the sides (the order rotates
 *      every round) so a noisy machine hits all alike; the figure is the median of per-round ratios.
 *   2. Codec micro-benchmarks on this (one) thread: decode MB/s of numeric JSON into a Float32Array
 *      (goal ≥ 150; JSON.parse + copy measured in the same run) and encode float32/s (goal ≥ 20 M; into
 *      a recycled buffer, as the server writes answers, and into a fresh one; the old toPrecision
 *      formatter, number-format.ts, in the same run).
 * Usage: node --import tsx --no-warnings benchmarks/json-data-path.ts [--seconds 5] [--rounds 3] [--det-size 320] [--only 12] [--layouts 1x2,2x1]
 */
import type {ChildProcess} from 'node:child_process'
import {availableParallelism, cpus, loadavg} from 'node:os'
import autocannon from 'autocannon'
import {packagedModel} from '../src/fixtures.js'
import {openSession} from '../src/runtime/load.js'
import {defaultThreads, startServer} from '../src/server/index.js'
import {BodyPool} from '../src/server/body-pool.js'
import {decodePredictBytes, scanPredictBytes} from '../src/server/predict-bytes.js'
import {encodePredictBytes} from '../src/server/predict-encode.js'
import {formatFloat32} from '../src/server/number-format.js'
import {arg, columnarBody, loopRate, median, reporter, startSelfChild} from './support.js'

const SECONDS = Number(arg('seconds', '5'))
const DET = Number(arg('det-size', '320'))
const ROUNDS = Number(arg('rounds', '3'))
const ONLY = arg('only', '12')
const MODES = ['worker', 'main'] as const

// ---------------------------------------------------------------- the served side, one child per codec mode
async function child(): Promise<void> {
  const s = await startServer({
    models: [{name: 'm', path: arg('model', '')}],
    port: 0,
    workers: Number(arg('workers', '1')),
    intraOpThreads: Number(arg('threads', '1')),
    batching: {maxBatchSize: 1},
    jsonCodec: arg('json-codec', 'worker') as 'worker' | 'main',
    log: () => {},
  })
  process.stdout.write(`READY ${s.port}\n`)
}

async function startChild(extra: string[]): Promise<{port: number; proc: ChildProcess}> {
  const {fields, proc} = await startSelfChild(import.meta.url, extra)
  return {port: Number(fields[0]), proc}
}

/** numpy: float32 → float64 → repr (shortest round-trip of the double): String() of the widened value. */
const numpy17 = (v: number) => String(v)
const six = (v: number) => String(+v.toPrecision(6))

/** Served layouts, "WxT": W workers × T intra-op threads each. */
const LAYOUTS = arg('layouts', '')
  .split(',')
  .filter(Boolean)
  .map((l) => {
    const [w, t] = l.split('x').map(Number)
    if (!(w! >= 1 && t! >= 1)) throw new Error(`--layouts: "${l}" is not WxT (workers x threads), e.g. 1x2,2x1`)
    return {workers: w!, threads: t!}
  })

async function servedRatios(say: (s: string) => void, cores: number): Promise<void> {
  const det = packagedModel('ppocr-det')!
  const dims = [1, 3, DET, DET]
  // A pseudo-image with values spread over [0, 1) (a numpy image / 255), so digits vary as in real input.
  const x = new Float32Array(3 * DET * DET).map((_, i) => ((i * 7919) % 65_521) / 65_521)
  const bodies = {'17-digit': columnarBody(x, dims, numpy17), '6-digit': columnarBody(x, dims, six)}
  for (const [k, b] of Object.entries(bodies)) say(`   ${k} body: ${(b.length / 1e6).toFixed(2)} MB`)
  // `tfsopt serve`'s default layout unless --layouts names others.
  const d = defaultThreads(undefined, undefined, false, cores)
  const layouts = LAYOUTS.length ? LAYOUTS : [{workers: d.workers, threads: d.intraOpThreads}]
  const label = (l: {workers: number; threads: number}) => `${l.workers}x${l.threads}`
  // One in-process session per thread count the layouts use: served is compared with the same
  // session settings, and with the fastest in-process rate of the run.
  const threadCounts = [...new Set([cores, ...layouts.map((l) => l.threads)])]
  const feeds = {x: {dtype: 'float32' as const, dims, data: x}}
  const sessions = new Map<number, Awaited<ReturnType<typeof openSession>>>()
  const servers = new Map<string, {port: number; proc: ChildProcess}>()
  try {
    for (const t of threadCounts) {
      const s = await openSession(det, {device: 'cpu', intraOpThreads: t})
      await s.run(feeds)
      sessions.set(t, s)
    }
    for (const l of layouts)
      for (const mode of MODES)
        servers.set(
          `${label(l)} ${mode}`,
          await startChild(['--model', det, '--threads', String(l.threads), '--workers', String(l.workers), '--json-codec', mode]),
        )
    const load = async (server: string, body: string) => {
      const opts = {
        url: `http://127.0.0.1:${servers.get(server)!.port}/v1/models/m:predict`,
        method: 'POST' as const,
        body,
        headers: {'content-type': 'application/json'},
        connections: 2,
      }
      await autocannon({...opts, duration: 1})
      const r = await autocannon({...opts, duration: SECONDS})
      if (r.non2xx + r.errors) throw new Error(`${server}: ${r.non2xx} non-2xx, ${r.errors} errors`)
      return r.requests.total / SECONDS
    }
    type Side = {name: string; run: () => Promise<number>}
    const inProc = (t: number) => `in-process ×${t}`
    const sides: Side[] = threadCounts.map((t) => ({name: inProc(t), run: () => loopRate(SECONDS, () => sessions.get(t)!.run(feeds))}))
    for (const [k, b] of Object.entries(bodies)) for (const server of servers.keys()) sides.push({name: `${k} ${server}`, run: () => load(server, b)})
    const perRound: Record<string, number>[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const got: Record<string, number> = {}
      // Rotate the order every round: no side always runs first or last.
      for (let i = 0; i < sides.length; i++) {
        const side = sides[(i + r) % sides.length]!
        got[side.name] = await side.run()
      }
      perRound.push(got)
      say(
        `   round ${r + 1}: ${Object.entries(got)
          .map(([k, v]) => `${k} ${v.toFixed(2)}/s`)
          .join(' | ')}`,
      )
    }
    const best = (g: Record<string, number>) => Math.max(...threadCounts.map((t) => g[inProc(t)]!))
    for (const t of threadCounts) say(`   in-process, 1 session × ${t} thread(s): median ${median(perRound.map((g) => g[inProc(t)]!)).toFixed(2)} inf/s`)
    for (const [k] of Object.entries(bodies))
      for (const l of layouts)
        for (const mode of MODES) {
          const name = `${k} ${label(l)} ${mode}`
          const same = perRound.map((g) => g[name]! / g[inProc(l.threads)]!)
          const ofBest = perRound.map((g) => g[name]! / best(g))
          const goal = k === '17-digit' ? 0.6 : 0.7
          say(
            `1. ppocr-det [1,3,${DET},${DET}] columnar JSON, ${k} floats, --json-codec ${mode}, ${l.workers} worker(s) × ${l.threads} thread(s), 2 connections: served median ${median(perRound.map((g) => g[name]!)).toFixed(2)} req/s; ÷ in-process with ${l.threads} thread(s) per round ${same.map((v) => v.toFixed(3)).join(', ')} → median ${median(same).toFixed(3)}; ÷ the fastest in-process → median ${median(ofBest).toFixed(3)} (goal ≥ ${goal})`,
          )
        }
  } finally {
    for (const s of sessions.values()) await s.dispose()
    for (const c of servers.values()) {
      c.proc.kill('SIGTERM')
      await new Promise((r) => c.proc.once('exit', r))
    }
  }
}

// ---------------------------------------------------------------- codec micro-benchmarks (this thread)
/** Runs `fn` repeatedly for about `ms`; the best of 5 rounds' per-call milliseconds (least disturbed by neighbours). */
function timeIt(fn: () => unknown, ms = 1000): number {
  const rounds: number[] = []
  for (let r = 0; r < 5; r++) {
    let n = 0
    const t0 = performance.now()
    while (performance.now() - t0 < ms / 5) {
      fn()
      n++
    }
    rounds.push((performance.now() - t0) / n)
  }
  return Math.min(...rounds)
}

function codecMicro(say: (s: string) => void): void {
  const dims = [1, 3, DET, DET]
  const n = 3 * DET * DET
  const x = new Float32Array(n).map((_, i) => ((i * 7919) % 65_521) / 65_521)
  const info = [{name: 'x', dtype: 'float32' as const, shape: [-1, 3, -1, -1]}]
  for (const [k, write] of [
    ['17-digit', numpy17],
    ['6-digit', six],
  ] as const) {
    const text = columnarBody(x, dims, write)
    const buf = Buffer.from(text)
    const bytes = timeIt(() => decodePredictBytes(buf, info as never))
    // The first pass alone: what the main thread still does for a body it hands to a worker.
    const scan = timeIt(() => scanPredictBytes(buf, info as never))
    const ref = timeIt(() => {
      const t = JSON.parse(buf.toString('utf8')) as {inputs: number[][][][]}
      const out = new Float32Array(n)
      let i = 0
      for (const a of t.inputs) for (const b of a) for (const c of b) for (const v of c) out[i++] = v
      return out
    })
    const mb = buf.length / 1e6
    say(
      `2. decode ${k} columnar JSON (${mb.toFixed(2)} MB, ${n} float32) into a Float32Array: byte codec ${(mb / (bytes / 1000)).toFixed(0)} MB/s (${bytes.toFixed(1)} ms), JSON.parse + copy ${(mb / (ref / 1000)).toFixed(0)} MB/s (${ref.toFixed(1)} ms) (goal ≥ 150 MB/s); of which the structure scan alone ${scan.toFixed(1)} ms`,
    )
  }
  // Encode: the det model's output is [1,1,S,S] float32 in [0, 1]; model outputs carry all 9 digits.
  const out = new Float32Array(DET * DET).map((_, i) => Math.fround(Math.sin(i) * 0.5 + 0.5))
  const outputs = {y: {dtype: 'float32' as const, dims: [1, 1, DET, DET], data: out}}
  // As the server writes answers: into a recycled buffer, given back once sent (body-pool.ts); and into
  // a fresh one each time, for comparison.
  const pool = new BodyPool()
  const enc = timeIt(() => pool.give(encodePredictBytes('columnar', outputs, ['y'], pool)))
  pool.close()
  const fresh = timeIt(() => encodePredictBytes('columnar', outputs, ['y']))
  const old = timeIt(() => {
    const parts = new Array<string>(out.length)
    for (let i = 0; i < out.length; i++) parts[i] = formatFloat32(out[i]!)
    return Buffer.from(`{"outputs":[[[${parts.join(',')}]]]}`)
  })
  const m = out.length / 1e6
  say(
    `2. encode ${out.length} float32 (columnar answer): byte writer ${(m / (enc / 1000)).toFixed(1)} M float32/s (${enc.toFixed(1)} ms; into a fresh buffer each time ${(m / (fresh / 1000)).toFixed(1)} M/s), old toPrecision formatter + join ${(m / (old / 1000)).toFixed(2)} M/s (${old.toFixed(1)} ms) (goal ≥ 20 M/s)`,
  )
}

async function main(): Promise<void> {
  const cores = availableParallelism()
  const {say, done} = reporter()
  const la = () =>
    loadavg()
      .map((v) => v.toFixed(2))
      .join(', ')
  say(`machine: ${cpus()[0]?.model ?? '?'}, ${cores} cores, node ${process.version}; load average at start ${la()}; ${SECONDS} s per point after a 1 s warm-up`)
  if (ONLY.includes('2')) codecMicro(say)
  if (ONLY.includes('1')) await servedRatios(say, cores)
  say(`load average at end ${la()}`)
  done()
}

if (process.argv.includes('--child')) await child()
else await main()
