/**
 * Access-log overhead (issue 16, target ≥ 0.9): tfsopt serve's throughput on a tiny model (y = 2x, 4
 * floats, JSON) with `--access-log FILE` (every request logged) ÷ the same server without it. Both servers
 * run as child processes, started once; autocannon drives them from this process in short load points
 * that alternate between the two (order flipped each round) so a noisy machine hits both alike. Reports
 * every round, the median ratio, the lines written (one per request answered), and the load average.
 * Usage: node --import tsx benchmarks/access-log-overhead.ts [--seconds 5] [--rounds 5] [--connections 32] [--aa] [--dest FILE]
 */
import type {ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, statSync} from 'node:fs'
import {availableParallelism, cpus, loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import autocannon from 'autocannon'
import {startServer} from '../src/server/index.js'
import {arg, median, startSelfChild, writeTinyModel} from './support.js'

const SECONDS = Number(arg('seconds', '5'))
const ROUNDS = Number(arg('rounds', '5'))
const CONNECTIONS = Number(arg('connections', '32'))

async function child(model: string, log: string | undefined): Promise<void> {
  const s = await startServer({
    models: [{name: 'm', path: model}],
    port: 0,
    workers: 1,
    intraOpThreads: 1,
    log: () => {},
    ...(log ? {accessLog: {destination: log}} : {}),
  })
  process.stdout.write(`READY ${s.port}\n`)
  process.once('SIGTERM', () => void s.close().then(() => process.exit(0)))
}

async function startChild(model: string, log?: string): Promise<{port: number; proc: ChildProcess}> {
  const {fields, proc} = await startSelfChild(import.meta.url, [model, ...(log ? ['--log', log] : [])])
  return {port: Number(fields[0]), proc}
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-access-bench-'))
  const tiny = writeTinyModel(join(dir, 'tiny.onnx'))
  // --dest /dev/null: everything but the file system's share (to tell the two costs apart)
  const logFile = arg('dest', join(dir, 'access.log'))
  const la0 = loadavg()
  const off = await startChild(tiny)
  // --aa: both servers without the log (an A/A run: how far apart two identical servers measure here)
  const on = await startChild(tiny, process.argv.includes('--aa') ? undefined : logFile)
  const body = JSON.stringify({instances: [[0.1, 0.2, 0.3, 0.4]]})
  const point = async (port: number, duration = SECONDS) => {
    const r = await autocannon({
      url: `http://127.0.0.1:${port}/v1/models/m:predict`,
      method: 'POST',
      body,
      headers: {'content-type': 'application/json'},
      connections: CONNECTIONS,
      duration,
    })
    return {rps: r.requests.total / duration, total: r.requests.total, errors: r.non2xx + r.errors, p99: r.latency.p99}
  }
  const offs: Awaited<ReturnType<typeof point>>[] = []
  const ons: Awaited<ReturnType<typeof point>>[] = []
  let answeredOn = 0
  try {
    await point(off.port, 1)
    answeredOn += (await point(on.port, 1)).total
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        offs.push(await point(off.port))
        ons.push(await point(on.port))
      } else {
        ons.push(await point(on.port))
        offs.push(await point(off.port))
      }
      answeredOn += ons[ons.length - 1]!.total
    }
  } finally {
    for (const c of [off, on]) {
      c.proc.kill('SIGTERM')
      await new Promise((r) => c.proc.once('exit', r))
    }
  }
  const la1 = loadavg()
  const written = (process.argv.includes('--aa') || logFile === '/dev/null' ? '' : readFileSync(logFile, 'utf8')).split('\n').filter(Boolean).length
  const ratios = ons.map((x, i) => x.rps / offs[i]!.rps)
  const lines = [
    `machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} cores, node ${process.version}; load average ${la0.map((x) => x.toFixed(2)).join(' ')} before, ${la1.map((x) => x.toFixed(2)).join(' ')} after`,
    ...ons.map(
      (x, i) =>
        `   round ${i + 1}: off ${offs[i]!.rps.toFixed(0)} req/s (p99 ${offs[i]!.p99} ms${offs[i]!.errors ? `, ${offs[i]!.errors} errors` : ''}) | on ${x.rps.toFixed(0)} req/s (p99 ${x.p99} ms${x.errors ? `, ${x.errors} errors` : ''}) → ${ratios[i]!.toFixed(3)}`,
    ),
    `access log on ÷ off, tiny model, JSON, ${CONNECTIONS} connections, 1 worker × 1 thread, ${ROUNDS} alternating rounds of ${SECONDS} s: ratio per round ${ratios.map((x) => x.toFixed(3)).join(', ')} → median ${median(ratios).toFixed(3)} (goal ≥ 0.9); ${written} lines written for ${answeredOn} requests sent to the logging server (${(written ? statSync(logFile).size / written : 0).toFixed(0)} bytes/line)`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

if (process.argv.includes('--child')) {
  const i = process.argv.indexOf('--child')
  const j = process.argv.indexOf('--log')
  void child(process.argv[i + 1]!, j >= 0 ? process.argv[j + 1] : undefined)
} else void main()
