/**
 * The built-in target: `tfsopt serve MODEL --json --port 0 ...` as a child process. We wait for its one
 * JSON "ready" line on stdout (it carries the URL with the port it bound), then for the model to be
 * AVAILABLE over REST, measure, and stop it with SIGTERM (it drains and exits 0). A child that exits or
 * never gets ready is a clear E_UNAVAILABLE error carrying the tail of its stderr.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {TfsoptError} from '../errors.js'
import {PACKAGE_ROOT} from '../fixtures.js'
import {currentKeyFile} from '../models/sealed/key.js'
import {waitAvailable} from './target.js'
import type {ServerConfig} from '../results/bench-run.js'

export interface ReadyInfo {
  event: 'ready'
  url: string
  /** host:port of its gRPC endpoint, when started with --grpc-port. */
  grpc?: string
  pid: number
  models: Array<Record<string, unknown> & {name: string}>
}

export interface ServerHandle {
  url: string
  pid: number
  ready: ReadyInfo
  alive(): boolean
  /** Last lines the server wrote on stderr (for error messages). */
  stderrTail(): string
  stop(): Promise<number | null>
}

/** `tfsopt serve` flags for one server-side configuration. */
export function serverArgs(cfg: ServerConfig): string[] {
  const a: string[] = []
  const put = (flag: string, v: number | undefined) => {
    if (v !== undefined) a.push(flag, String(v))
  }
  put('--workers', cfg.workers)
  put('--intra-op-threads', cfg.intraOpThreads)
  put('--inter-op-threads', cfg.interOpThreads)
  put('--max-batch-size', cfg.maxBatchSize)
  put('--batch-timeout-micros', cfg.batchTimeoutMicros)
  put('--max-enqueued-batches', cfg.maxEnqueuedBatches)
  put('--cache-size', cfg.cacheSize)
  return [...a, ...(cfg.extraFlags ?? [])]
}

/** Splits "--a 1 --b 'x y'" like a shell would (quotes only; no expansion). */
export function splitFlags(s: string | undefined): string[] {
  if (!s) return []
  const out: string[] = []
  for (const m of s.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!)
  return out
}

/** How to run the CLI: the compiled bin when this module is compiled, else the tsx dev entry. */
export function cliCommand(): {cmd: string; args: string[]} {
  const fromTs = fileURLToPath(import.meta.url).endsWith('.ts')
  const override = process.env.TFSOPT_SERVE_BIN
  if (override) return {cmd: process.execPath, args: [override]}
  if (!fromTs && existsSync(join(PACKAGE_ROOT, 'dist', 'commands'))) return {cmd: process.execPath, args: [join(PACKAGE_ROOT, 'bin', 'run.js')]}
  return {cmd: process.execPath, args: ['--import', 'tsx', '--no-warnings', join(PACKAGE_ROOT, 'bin', 'dev.js')]}
}

const keyFileArgs = (): string[] => {
  const f = currentKeyFile()
  return f ? ['--key-file', f] : []
}

export async function startServeProcess(opts: {
  /** The model path (positional); '' when the models come from --model-config-file in config.extraFlags. */
  model: string
  /** Do not wait for a model to be AVAILABLE (under a memory budget none is loaded until asked for). */
  noWait?: boolean
  modelName?: string
  config: ServerConfig
  /** Also open the gRPC port (an ephemeral one), for gRPC protocols. */
  grpc?: boolean
  startTimeoutMs?: number
  env?: NodeJS.ProcessEnv
}): Promise<ServerHandle> {
  const {cmd, args} = cliCommand()
  const full = [
    ...args,
    'serve',
    ...(opts.model ? [opts.model] : []),
    '--json',
    '--port',
    '0',
    ...(opts.modelName ? ['--model-name', opts.modelName] : []),
    ...(opts.grpc ? ['--grpc-port', '0'] : []),
    // an encrypted model: the same --key-file (TFSOPT_MODEL_KEY travels in the environment anyway)
    ...keyFileArgs(),
    ...serverArgs(opts.config),
  ]
  const child: ChildProcess = spawn(cmd, full, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...opts.env}, cwd: PACKAGE_ROOT})
  let exited = false
  let exitCode: number | null = null
  const exitP = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exited = true
      exitCode = code
      resolve(code)
    }),
  )
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const tail = () => stderr.trim().split('\n').slice(-6).join('\n')
  const stop = async (): Promise<number | null> => {
    if (exited) return exitCode
    child.kill('SIGTERM')
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000)
    const code = await exitP
    clearTimeout(t)
    return code
  }
  const ready = await new Promise<ReadyInfo>((resolve, reject) => {
    let buf = ''
    const timer = setTimeout(
      () =>
        reject(
          new TfsoptError(
            'E_UNAVAILABLE',
            `tfsopt serve did not report ready within ${(opts.startTimeoutMs ?? 60_000) / 1000} s${tail() ? `:\n${tail()}` : ''}`,
          ),
        ),
      opts.startTimeoutMs ?? 60_000,
    )
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim()
        buf = buf.slice(nl + 1)
        if (!line.startsWith('{')) continue
        try {
          const msg = JSON.parse(line) as ReadyInfo
          if (msg.event === 'ready' && msg.url) {
            clearTimeout(timer)
            resolve(msg)
          }
        } catch {
          /* not our line */
        }
      }
    })
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(new TfsoptError('E_UNAVAILABLE', `could not start tfsopt serve: ${err.message}`))
    })
    void exitP.then((code) => {
      clearTimeout(timer)
      reject(new TfsoptError('E_UNAVAILABLE', `tfsopt serve exited with code ${code} before it was ready${tail() ? `:\n${tail()}` : ''}`))
    })
  }).catch(async (err) => {
    await stop()
    throw err
  })
  const name = opts.modelName ?? ready.models?.[0]?.name
  try {
    if (name && !opts.noWait) await waitAvailable(ready.url, name, 30_000, () => !exited)
  } catch (err) {
    await stop()
    throw err
  }
  return {url: ready.url, pid: ready.pid ?? child.pid!, ready, alive: () => !exited, stderrTail: tail, stop}
}
