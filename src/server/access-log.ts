/**
 * Access logs (`serve --access-log stderr|PATH`, off by default): one JSON line per inference request
 * (TF Serving REST :predict and gRPC Predict, KServe v2 REST infer and gRPC ModelInfer), written by pino
 * through its asynchronous destination (sonic-boom): the line is serialised after the answer has been
 * written to the socket, and the write itself happens later, in batches, off the request's path. A
 * request is sampled (or not) when it arrives, so unsampled requests pay nothing but the coin toss.
 *
 *   {"log":"access","time":"2026-12-07T07:30:00.123Z","request_id":"…","protocol":"rest","model":"mnist","version":1,
 *    "status":200,"latency_ms":1.92,"queue_ms":0.05,"compute_ms":0.61,"batch_size":3,"rows":1,
 *    "bytes_in":3190,"bytes_out":187,"cache":"miss"}
 */
import {randomUUID} from 'node:crypto'
import {openSync} from 'node:fs'
import pino, {type Logger} from 'pino'
import {TfsoptError} from '../errors.js'

export type Protocol = 'rest' | 'grpc' | 'v2-rest' | 'v2-grpc'

/** Filled in along the predict path for a sampled request (batcher: queue wait, compute, batch size). */
export interface RequestTrace {
  queueSeconds?: number
  computeSeconds?: number
  /** Rows of the batch this request ran in (its own rows merged with others'). */
  batchRows?: number
  /** Rows of this request. */
  rows?: number
  cache?: 'hit' | 'miss'
}

export interface AccessLogOptions {
  /** 'stderr', or a file path (appended to). */
  destination: string
  /** Fraction of requests logged, 0..1 (default 1). */
  sample?: number
}

export interface AccessRecord {
  requestId: string
  protocol: Protocol
  model?: string
  version?: number
  status: number
  latencyMs: number
  bytesIn: number
  bytesOut: number
  trace?: RequestTrace
}

const round = (ms: number) => Math.round(ms * 1000) / 1000
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/

export function parseSample(v: string | number | undefined, where: string): number {
  if (v === undefined) return 1
  const n = typeof v === 'number' ? v : Number(v)
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new TfsoptError('E_USAGE', `${where} must be a fraction from 0 to 1 (e.g. 0.1 logs one request in ten), got ${v}`)
  return n
}

export class AccessLog {
  private readonly dest: ReturnType<typeof pino.destination>
  private readonly logger: Logger
  private readonly sample: number
  private closed = false
  private readonly toStderr: boolean

  constructor(opts: AccessLogOptions) {
    this.sample = parseSample(opts.sample, '--access-log-sample')
    const toStderr = opts.destination === 'stderr' || opts.destination === '-'
    this.toStderr = toStderr
    // The file is opened here, synchronously, so a path that cannot be written is refused at start.
    let fd = 2
    if (!toStderr) {
      try {
        fd = openSync(opts.destination, 'a')
      } catch (err) {
        throw new TfsoptError(
          'E_USAGE',
          `--access-log ${opts.destination} cannot be opened for appending (${(err as NodeJS.ErrnoException).code}); give a writable file or stderr`,
        )
      }
    }
    // Asynchronous writes, in chunks of at least 4 KiB to a file (the rest is flushed on close).
    // A second's idle flush (an unref'd timer) keeps a quiet server's lines from waiting for 4 KiB.
    this.dest = pino.destination(toStderr ? {dest: 2, sync: false} : {dest: fd, sync: false, minLength: 4096, periodicFlush: 1000})
    this.dest.on('error', () => {})
    this.logger = pino({base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: {level: () => ({log: 'access'})}}, this.dest)
  }

  /** Whether this request is logged (decided once, when it arrives). */
  take(): boolean {
    return !this.closed && (this.sample >= 1 || (this.sample > 0 && Math.random() < this.sample))
  }

  /** The client's x-request-id when it is a sane token, else a fresh UUID. */
  requestId(given: unknown): string {
    return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
  }

  write(r: AccessRecord): void {
    if (this.closed) return
    const t = r.trace
    this.logger.info({
      request_id: r.requestId,
      protocol: r.protocol,
      model: r.model ?? null,
      version: r.version ?? null,
      status: r.status,
      latency_ms: round(r.latencyMs),
      queue_ms: t?.queueSeconds === undefined ? null : round(t.queueSeconds * 1000),
      compute_ms: t?.computeSeconds === undefined ? null : round(t.computeSeconds * 1000),
      batch_size: t?.batchRows ?? null,
      rows: t?.rows ?? null,
      bytes_in: r.bytesIn,
      bytes_out: r.bytesOut,
      cache: t?.cache ?? null,
    })
  }

  /** Writes what is buffered and closes a file destination (stderr stays open). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const d = this.dest
    if (this.toStderr) {
      try {
        d.flushSync()
      } catch {}
      return
    }
    await new Promise<void>((resolve) => {
      d.once('close', () => resolve())
      d.once('error', () => resolve())
      try {
        d.end()
      } catch {
        resolve()
      }
    })
  }
}
