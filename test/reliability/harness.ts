/**
 * What the reliability tests share: tiny real ONNX models, the server in a child process (so its memory
 * is measured apart from the client's), the `tfsopt` CLI as a child, a bounded closed-loop load
 * generator over keep-alive connections, and small statistics. Every loop here is bounded in count and
 * in time, and all traffic goes to 127.0.0.1.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {Agent, request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PACKAGE_ROOT} from '../../src/fixtures.js'
import type {ServerOptions} from '../../src/server/index.js'

const made: string[] = []
/** A fresh temporary directory, removed when the test process exits. */
export function tmp(prefix = 'tfsopt-reliability-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  if (made.push(d) === 1)
    process.on('exit', () => {
      for (const x of made) rmSync(x, {recursive: true, force: true})
    })
  return d
}
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// ---- one timing-sensitive scenario at a time ----

const LOCK = join(tmpdir(), 'tfsopt-reliability.lock')

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Runs `fn` while holding a machine-wide lock, so the reliability scenarios (load, kills, timings)
 * never overlap each other under the test runner's concurrency: on a 2-core runner two of them at
 * once measure the contention, not the server. Other suites may still run alongside. A lock whose
 * owner has died is taken over; after `waitMs` the scenario runs anyway rather than fail.
 */
export async function exclusive<T>(fn: () => Promise<T>, waitMs = 200_000): Promise<T> {
  const t0 = Date.now()
  let mine = false
  while (!mine) {
    try {
      mkdirSync(LOCK)
      writeFileSync(join(LOCK, 'pid'), String(process.pid))
      mine = true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      let pid = NaN
      try {
        pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'))
      } catch {
        // no pid yet: either being created right now, or its creator died in between (then age decides)
      }
      let age = 0
      try {
        age = Date.now() - statSync(LOCK).mtimeMs
      } catch {
        continue
      }
      if ((Number.isFinite(pid) && pid > 0 && !alive(pid)) || (!Number.isFinite(pid) && age > 10_000)) rmSync(LOCK, {recursive: true, force: true})
      else if (Date.now() - t0 > waitMs) break
      else await sleep(100)
    }
  }
  try {
    return await fn()
  } finally {
    if (mine) rmSync(LOCK, {recursive: true, force: true})
  }
}

// ---- models (shared with the server tests) ----

export {multiModel, scaleModel, stringModel as textModel, versionedBase} from '../support/models.js'

// ---- the server in a child process ----

export interface ChildServer {
  url: string
  port: number
  pid: number
  proc: ChildProcess
  /** Server-process memory after two forced GCs. */
  mem(): Promise<{rss: number; heapUsed: number; external: number; arrayBuffers: number}>
  logs(): Promise<string[]>
  stderr(): string
  alive(): boolean
  /** Drains and stops it; resolves with the exit code (killed after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>
}

function waitReady(proc: ChildProcess, what: string, timeoutMs: number, stderr: () => string): Promise<{url: string; pid: number}> {
  return new Promise((resolve, reject) => {
    let out = ''
    const t = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`${what} not ready after ${timeoutMs} ms; stderr: ${stderr()}`))
    }, timeoutMs)
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.includes('"event":"ready"'))
      if (line) {
        clearTimeout(t)
        resolve(JSON.parse(line))
      }
    })
    proc.once('exit', (code) => {
      clearTimeout(t)
      reject(new Error(`${what} exited (${code}) before it was ready; stderr: ${stderr()}`))
    })
  })
}

function exitOf(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode)
  return new Promise((r) => proc.once('exit', (code) => r(code)))
}

async function stopChild(proc: ChildProcess, timeoutMs: number, how: () => void): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode
  const exited = exitOf(proc)
  how()
  const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  const code = await exited
  clearTimeout(t)
  return code
}

/** `startServer(opts)` in a child (quiet log, 1 worker × 1 thread, no warmup, no polling unless given). */
export async function startChildServer(opts: Partial<ServerOptions> & Pick<ServerOptions, 'models'>, env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const full = {port: 0, workers: 1, intraOpThreads: 1, warmup: 0, pollSeconds: 0, ...opts}
  const proc = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--no-warnings', join(PACKAGE_ROOT, 'test', 'reliability', 'server-child.ts'), JSON.stringify(full)],
    {cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: {...process.env, ...env}},
  )
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)))
  const ready = await waitReady(proc, 'server child', 60_000, () => err)
  let nextId = 1
  const ask = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = nextId++
      const t = setTimeout(() => reject(new Error(`no answer to ${type}`)), 10_000)
      const on = (m: {id: number}) => {
        if (m.id !== id) return
        clearTimeout(t)
        proc.off('message', on)
        resolve(m as T)
      }
      proc.on('message', on)
      proc.send({type, id})
    })
  return {
    url: ready.url,
    port: Number(new URL(ready.url).port),
    pid: ready.pid,
    proc,
    mem: () => ask('mem'),
    logs: async () => (await ask<{lines: string[]}>('log')).lines,
    stderr: () => err,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    stop: (timeoutMs = 15_000) => stopChild(proc, timeoutMs, () => proc.send({type: 'stop', id: 0})),
  }
}

// ---- the CLI as a child ----

/**
 * How to run `tfsopt`: the compiled bin/run.js when TFSOPT_CLI=dist (CI runs `npm run build` first),
 * else bin/dev.js through tsx, which needs no build and always runs the current sources.
 */
export function cli(): {cmd: string; args: string[]} {
  if (process.env.TFSOPT_CLI === 'dist' && existsSync(join(PACKAGE_ROOT, 'dist', 'commands')))
    return {cmd: process.execPath, args: [join(PACKAGE_ROOT, 'bin', 'run.js')]}
  return {cmd: process.execPath, args: ['--import', 'tsx', '--no-warnings', join(PACKAGE_ROOT, 'bin', 'dev.js')]}
}

export interface CliServer {
  url: string
  port: number
  pid: number
  proc: ChildProcess
  stderr(): string
  exited: Promise<number | null>
}

export async function startCliServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  const {cmd, args: pre} = cli()
  const proc = spawn(cmd, [...pre, 'serve', ...args, '--json'], {cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...env}})
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)))
  const exited = exitOf(proc)
  const ready = await waitReady(proc, 'tfsopt serve', 90_000, () => err)
  return {url: ready.url, port: Number(new URL(ready.url).port), pid: ready.pid, proc, stderr: () => err, exited}
}

/** Resident set size of any local process in bytes (Linux /proc), or NaN where there is none. */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : NaN
  } catch {
    return NaN
  }
}

/** CPU seconds (user + system, all threads) a local process has used so far (Linux /proc), or NaN. */
export function cpuOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ')
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name, in clock ticks.
    return (Number(rest[11]) + Number(rest[12])) / 100
  } catch {
    return NaN
  }
}

// ---- HTTP ----

export interface Reply {
  status: number
  text: string
  json: any
  ms: number
}

/** One request over `agent` (keep-alive); network errors come back as status 0 with the code in text. */
export function call(
  url: string,
  opts: {method?: string; body?: string | Buffer; headers?: Record<string, string>; agent?: Agent; timeoutMs?: number} = {},
): Promise<Reply> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const body = opts.body
    const r = request(
      url,
      {
        method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: opts.agent,
        headers: {...(body !== undefined ? {'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body))} : {}), ...opts.headers},
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: any
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({status: res.statusCode ?? 0, text, json, ms: performance.now() - t0})
        })
        res.on('error', (e: NodeJS.ErrnoException) => resolve({status: 0, text: e.code ?? e.message, json: undefined, ms: performance.now() - t0}))
      },
    )
    r.on('timeout', () => r.destroy(Object.assign(new Error('timeout'), {code: 'ETIMEDOUT'})))
    r.on('error', (e: NodeJS.ErrnoException) => resolve({status: 0, text: e.code ?? e.message, json: undefined, ms: performance.now() - t0}))
    r.end(body)
  })
}

export interface Sample {
  status: number
  ms: number
  sentAt: number
  doneAt: number
  text: string
}

export interface LoadOptions {
  url: string
  /** Body for request i (so answers can be checked per request). */
  body: (i: number) => string
  concurrency: number
  durationMs: number
  /** Hard cap on requests, whatever the duration. */
  maxRequests?: number
  headers?: Record<string, string>
  /** Pause after a non-200 answer (a client backing off); 0 by default. */
  backoffMs?: number
  /** Called for every answer (checks, events on the timeline). */
  onReply?: (s: Sample, i: number) => void
  /** Stop early when this resolves. */
  stop?: Promise<unknown>
  /** The clock origin of sentAt/doneAt (performance.now() at the start by default). */
  t0?: number
}

/** Closed-loop load: `concurrency` clients, each sending its next request when the last is answered. */
export async function runLoad(o: LoadOptions): Promise<{samples: Sample[]; wallMs: number}> {
  const agent = new Agent({keepAlive: true, maxSockets: o.concurrency})
  const samples: Sample[] = []
  const start = performance.now()
  const t0 = o.t0 ?? start
  const deadline = performance.now() + o.durationMs
  const max = o.maxRequests ?? Infinity
  let stopped = false
  void o.stop?.then(() => (stopped = true))
  let i = 0
  const client = async () => {
    while (!stopped && performance.now() < deadline && i < max) {
      const k = i++
      const sentAt = performance.now() - t0
      const r = await call(o.url, {body: o.body(k), agent, headers: o.headers})
      const s = {status: r.status, ms: r.ms, sentAt, doneAt: performance.now() - t0, text: r.status === 200 ? r.text : r.text.slice(0, 300)}
      samples.push(s)
      o.onReply?.(s, k)
      if (r.status !== 200 && o.backoffMs) await sleep(o.backoffMs)
    }
  }
  await Promise.all(Array.from({length: o.concurrency}, client))
  agent.destroy()
  return {samples, wallMs: performance.now() - start}
}

// ---- statistics and reporting ----

export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!
}

export function countBy<T>(xs: T[], key: (x: T) => string | number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const x of xs) {
    const k = String(key(x))
    out[k] = (out[k] ?? 0) + 1
  }
  return out
}

export const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10

/**
 * Figures for docs/RELIABILITY.md: printed as one `RELIABILITY {...}` line (the spec reporter shows
 * test output), and appended to $TFSOPT_RELIABILITY_OUT as JSON lines when that is set.
 */
export function report(scenario: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({scenario, at: new Date().toISOString(), ...figures})
  process.stdout.write(`RELIABILITY ${line}\n`)
  const out = process.env.TFSOPT_RELIABILITY_OUT
  if (out) writeFileSync(out, `${line}\n`, {flag: 'a'})
}

export {metric} from '../support/metrics.js'

/**
 * The model's status once `version` has left START/LOADING, polled every 100 ms for up to `ms`: on a
 * loaded machine a version can take longer than any fixed wait to load (or to be refused).
 */
export async function settledStatus(modelUrl: string, version: number, ms = 20_000): Promise<any> {
  const until = performance.now() + ms
  for (;;) {
    const st = (await call(modelUrl)).json
    const v = st?.model_version_status?.find((x: {version: string}) => x.version === String(version))
    if ((v && v.state !== 'LOADING' && v.state !== 'START') || performance.now() > until) return st
    await sleep(100)
  }
}
