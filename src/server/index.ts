/**
 * Programmatic API: `startServer(options)` loads every model (workers started, warmed up, AVAILABLE),
 * listens, and resolves with the URL, a summary per served model and `close()` (graceful drain).
 * The `serve` command, the tests and the bench all use it.
 */
import {defaultThreads} from './default-threads.js'
import {usageError} from '../errors.js'
import {BodyBudget, defaultInflightBodyBytes} from './body-budget.js'
import {BodyPool} from './body-pool.js'
import {ResponseCache} from './cache.js'
import {validateFlags} from './batching-config.js'
import {GrpcFront} from './grpc/grpc-server.js'
import {HttpFront} from './http-server.js'
import {AccessLog, parseSample} from './access-log.js'
import {ServerMetrics} from './metrics.js'
import {parseMemoryBudget} from './memory-budget.js'
import {ModelManager} from './model-manager.js'
import {validateModelName} from './model-config.js'
import {makePredictPath} from './predict-path.js'
import type {RuntimeSettings, ServedModelSummary, ServerOptions} from './types.js'
import {type DeviceChoice, selectDevice} from '../runtime/devices.js'
import {canRestorePriority, DEFAULT_LOAD_NICE} from './load-priority.js'

export type {ServerOptions, ModelSpec, ServedModelSummary, BatchingConfig, BatchingFlags} from './types.js'
export {readModelConfig, readModelConfigFile} from './model-config.js'
export {defaultThreads} from './default-threads.js'

export interface RunningServer {
  url: string
  port: number
  /** The gRPC port and its host:port target, when --grpc-port was given. */
  grpcPort?: number
  grpcTarget?: string
  pid: number
  models(): ServedModelSummary[]
  /** --model-memory-budget in bytes, when one is set (models then load on demand). */
  memoryBudgetBytes?: number
  /** Every configured model name, loaded or not. */
  modelNames: string[]
  metrics: ServerMetrics
  /** The ONNX execution provider chosen for --device, and why the others were not. */
  device: DeviceChoice
  /** Stops accepting, finishes queued and in-flight requests (bounded by the drain timeout), stops workers. */
  close(): Promise<void>
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8501,
  pollSeconds: 1,
  maxBodyBytes: 64 * 1024 * 1024,
  drainTimeoutSeconds: 30,
  cacheBytes: 64 * 1024 * 1024,
  warmup: 1,
} as const

/**
 * --load-nice as the server will apply it: an explicit value needs Linux and the right to restore
 * priorities (load-priority.ts) or is refused; the default applies only where both hold, and says so.
 */
export function resolveLoadNice(requested: number | undefined, log: (line: string) => void, probe: () => boolean | undefined = canRestorePriority): number {
  if (requested !== undefined && !(Number.isInteger(requested) && requested >= 0 && requested <= 19))
    throw usageError(`--load-nice must be an integer from 0 to 19, got ${requested}`)
  if (requested === 0) return 0
  const canRestore = probe()
  if (canRestore) return requested ?? DEFAULT_LOAD_NICE
  const why =
    canRestore === undefined
      ? 'thread priorities are set through Linux /proc, which this system does not have'
      : "this process may lower threads' priority but not raise it back (it needs CAP_SYS_NICE, or RLIMIT_NICE: `ulimit -e 40`, systemd LimitNICE=40, docker --ulimit nice=40)"
  if (requested !== undefined) throw usageError(`--load-nice ${requested}: ${why}; pass --load-nice 0 to load at full priority`)
  log(`loads run at full priority: ${why}`)
  return 0
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  if (!opts.models.length) throw usageError('no model to serve')
  for (const m of opts.models) validateModelName(m.name, 'model')
  if (opts.workers !== undefined && (!Number.isInteger(opts.workers) || opts.workers < 1))
    throw usageError(`--workers must be a positive integer, got ${opts.workers}`)
  validateFlags(opts.batching ?? {})
  // Every check on the options comes before the workers start: a refusal after it would leave them running.
  const maxBodyBytes = opts.maxBodyBytes ?? SERVE_DEFAULTS.maxBodyBytes
  const inflightBodyBytes = opts.maxInflightBodyBytes ?? defaultInflightBodyBytes(maxBodyBytes)
  if (!Number.isInteger(inflightBodyBytes) || inflightBodyBytes < maxBodyBytes)
    throw usageError(
      `--max-inflight-body-bytes (${inflightBodyBytes}) must be an integer at least --max-body-bytes (${maxBodyBytes}), or no body could ever be read`,
    )
  if (opts.accessLog) parseSample(opts.accessLog.sample, '--access-log-sample')
  const budgetBytes = opts.modelMemoryBudget !== undefined ? parseMemoryBudget(opts.modelMemoryBudget) : undefined
  if (opts.modelLoadTimeoutSeconds !== undefined && !(opts.modelLoadTimeoutSeconds > 0))
    throw usageError(`--model-load-timeout must be a positive number of seconds, got ${opts.modelLoadTimeoutSeconds}`)
  if (opts.jsonCodec !== undefined && opts.jsonCodec !== 'worker' && opts.jsonCodec !== 'main')
    throw usageError(`--json-codec must be worker or main, got ${opts.jsonCodec}`)
  const loadNice = resolveLoadNice(opts.loadNice, log)
  // Probed once here (not in every worker); `--device gpu` with no GPU provider fails before any worker starts.
  const device = await selectDevice(opts.device ?? 'auto')
  const threads = defaultThreads(opts.workers, opts.intraOpThreads, device.provider !== 'cpu')
  const runtime: RuntimeSettings = {
    backend: opts.backend ?? 'auto',
    device: opts.device ?? 'auto',
    provider: device.provider,
    workers: threads.workers,
    intraOpThreads: threads.intraOpThreads,
    interOpThreads: opts.interOpThreads,
    allowSpinning: opts.allowSpinning,
    warmup: opts.warmup ?? SERVE_DEFAULTS.warmup,
    injectLatencyMs: opts.injectLatencyMs ?? 0,
    injectLatencyDist: opts.injectLatencyDist ?? 'fixed',
    loadNice,
  }
  const metrics = new ServerMetrics()
  const cache = new ResponseCache(opts.cacheSize ?? 0, opts.cacheBytes ?? SERVE_DEFAULTS.cacheBytes, {
    onEvict: (model, version) => metrics.cacheEvictions.inc({model, version: String(version)}),
    onSize: (entries, bytes) => {
      metrics.cacheEntries.set(entries)
      metrics.cacheBytes.set(bytes)
    },
  })
  const manager = new ModelManager(opts.models, runtime, opts.batching ?? {}, metrics, cache, log, {
    memoryBudgetBytes: budgetBytes,
    loadTimeoutMs: opts.modelLoadTimeoutSeconds !== undefined ? opts.modelLoadTimeoutSeconds * 1000 : undefined,
  })
  await manager.start(opts.pollSeconds ?? SERVE_DEFAULTS.pollSeconds)
  let accessLog: AccessLog | undefined
  try {
    accessLog = opts.accessLog ? new AccessLog(opts.accessLog) : undefined
  } catch (err) {
    await manager.close(0)
    throw err
  }
  const apiKey = opts.apiKey || process.env.TFSOPT_API_KEY || undefined
  const budget = new BodyBudget(inflightBodyBytes, {
    onChange: (bytes) => {
      metrics.inflightBodyBytesNow = bytes
    },
    onRefusal: () => {
      metrics.bodyBudgetRefusalsNow++
    },
  })
  const bodyPool = new BodyPool()
  metrics.bodyPool = bodyPool
  const front = new HttpFront({
    budget,
    bodyPool,
    manager,
    metrics,
    cache,
    log,
    apiKey,
    maxBodyBytes,
    accessLog,
    testHooks: opts.testHooks ?? process.env.TFSOPT_TEST_HOOKS === '1',
    jsonCodec: opts.jsonCodec ?? 'worker',
    headersTimeoutMs: opts.headersTimeoutSeconds !== undefined ? opts.headersTimeoutSeconds * 1000 : undefined,
    requestTimeoutMs: opts.requestTimeoutSeconds !== undefined ? opts.requestTimeoutSeconds * 1000 : undefined,
  })
  const host = opts.host ?? SERVE_DEFAULTS.host
  let port: number
  try {
    port = await front.listen(opts.port ?? SERVE_DEFAULTS.port, host)
  } catch (err) {
    await manager.close(0)
    await accessLog?.close()
    throw usageError(`cannot listen on ${host}:${opts.port}: ${(err as Error).message}`)
  }
  const hostPart = host.includes(':') ? `[${host}]` : host
  const url = `http://${hostPart}:${port}`
  let grpc: GrpcFront | undefined
  let grpcPort: number | undefined
  if (opts.grpcPort !== undefined) {
    grpc = new GrpcFront({
      path: makePredictPath(manager, cache, apiKey),
      metrics,
      maxMessageBytes: maxBodyBytes,
      maxTensorBytes: maxBodyBytes,
      tensorContent: opts.grpcTensorContent ?? false,
      accessLog,
      log,
    })
    try {
      grpcPort = await grpc.listen(opts.grpcPort, host)
    } catch (err) {
      grpc.closeAll()
      await front.drain(0)
      front.closeAll()
      await manager.close(0)
      await accessLog?.close()
      throw usageError(`cannot listen for gRPC on ${host}:${opts.grpcPort}: ${(err as Error).message}`)
    }
  }
  let closing: Promise<void> | undefined
  return {
    url,
    port,
    grpcPort,
    grpcTarget: grpcPort === undefined ? undefined : `${hostPart}:${grpcPort}`,
    pid: process.pid,
    metrics,
    device,
    memoryBudgetBytes: budgetBytes,
    modelNames: opts.models.map((m) => m.name),
    models: () =>
      manager.available().map((s) => ({
        name: s.model,
        version: s.version,
        backend: s.info.backend,
        device: s.info.device,
        engine: s.info.engine,
        batching: s.batching,
        workers: runtime.workers,
        intraOpThreads: runtime.intraOpThreads ?? null,
        cache: {maxEntries: cache.maxEntries, maxBytes: cache.enabled ? cache.maxBytes : 0},
      })),
    close: () => {
      closing ??= (async () => {
        const drainMs = (opts.drainTimeoutSeconds ?? SERVE_DEFAULTS.drainTimeoutSeconds) * 1000
        // Both fronts stop taking requests at once; the workers stop when both have drained.
        const left = Math.min(...(await Promise.all([front.drain(drainMs), grpc?.drain(drainMs) ?? drainMs])))
        await manager.close(left)
        front.closeAll()
        grpc?.closeAll()
        bodyPool.close()
        // gRPC lines are written a tick after their answer: let them in, then flush and close.
        await new Promise((r) => setImmediate(r))
        await accessLog?.close()
      })()
      return closing
    },
  }
}
