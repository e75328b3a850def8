/**
 * Access logs (`serve --access-log stderr|PATH`, off by default): one JSON line per inference request
 * (TF Serving REST :predict and gRPC Predict, KServe v2 REST infer and gRPC ModelInfer), written through
 * pino's asynchronous destination (sonic-boom, `pino.destination({sync: false})`). The line is formatted
 * after the answer has been written to the socket; lines are gathered in memory and handed to the
 * destination every 256 KiB or 500 ms, which writes them with asynchronous fs.write calls off the event
 * loop. A request is sampled (or not) when it arrives: unsampled requests pay only the coin toss.
 *
 * Why not `pino().info(record)`: measured on the 2-core box, pino's generic object serialisation plus one
 * destination write per line cost ~4–6 µs per request, and the tiny model is served at ~25,000 req/s
 * (~40 µs of CPU each), so that alone was a ~19 % throughput loss (docs/BENCHMARKS.md). The fields are
 * fixed, so a fixed template (~1 µs, the ISO time cached per millisecond) and batched writes do the same.
 *
 *   {"log":"access","time":"2026-12-07T07:30:00.123Z","request_id":"…","protocol":"rest","model":"mnist","version":1,
 *    "status":200,"latency_ms":1.92,"queue_ms":0.05,"compute_ms":0.61,"batch_size":3,"rows":1,
 *    "bytes_in":3190,"bytes_out":187,"cache":"miss"}
 */
import {randomUUID} from 'node:crypto'
import {openSync} from 'node:fs'
import pino from 'pino'
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
/** Lines are handed to the destination in chunks of 256 KiB, or after half a second when traffic is light. */
const FLUSH_CHARS = 256 * 1024
const FLUSH_MS = 500
const msOf = (seconds: number | undefined) => (seconds === undefined ? 'null' : String(round(seconds * 1000)))
/** Printable ASCII without '"' and '\\': written into the JSON line as it is, no escaping needed. */
const REQUEST_ID = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/

export function parseSample(v: string | number | undefined, where: string): number {
  if (v === undefined) return 1
  const n = typeof v === 'number' ? v : Number(v)
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new TfsoptError('E_USAGE', `${where} must be a fraction from 0 to 1 (e.g. 0.1 logs one request in ten), got ${v}`)
  return n
}

export class AccessLog {
  private readonly dest: ReturnType<typeof pino.destination>
  private readonly sample: number
  private readonly toStderr: boolean
  private closed = false
  private buf = ''
  private timer: NodeJS.Timeout | undefined
  private lastMs = 0
  private lastIso = ''

  constructor(opts: AccessLogOptions) {
    this.sample = parseSample(opts.sample, '--access-log-sample')
    this.toStderr = opts.destination === 'stderr' || opts.destination === '-'
    // The file is opened here, synchronously, so a path that cannot be written is refused at start.
    let fd = 2
    if (!this.toStderr) {
      try {
        fd = openSync(opts.destination, 'a')
      } catch (err) {
        throw new TfsoptError(
          'E_USAGE',
          `--access-log ${opts.destination} cannot be opened for appending (${(err as NodeJS.ErrnoException).code}); give a writable file or stderr`,
        )
      }
    }
    this.dest = pino.destination({dest: fd, sync: false})
    this.dest.on('error', () => {})
  }

  /** Whether this request is logged (decided once, when it arrives). */
  take(): boolean {
    return !this.closed && (this.sample >= 1 || (this.sample > 0 && Math.random() < this.sample))
  }

  /** The client's x-request-id when it is a sane token, else a fresh UUID. */
  requestId(given: unknown): string {
    return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
  }

  private now(): string {
    const ms = Date.now()
    if (ms !== this.lastMs) {
      this.lastMs = ms
      this.lastIso = new Date(ms).toISOString()
    }
    return this.lastIso
  }

  write(r: AccessRecord): void {
    if (this.closed) return
    const t = r.trace
    this.buf += `{"log":"access","time":"${this.now()}","request_id":"${r.requestId}","protocol":"${r.protocol}","model":${r.model === undefined ? 'null' : JSON.stringify(r.model)},"version":${r.version === undefined || Number.isNaN(r.version) ? 'null' : r.version},"status":${r.status},"latency_ms":${round(r.latencyMs)},"queue_ms":${msOf(t?.queueSeconds)},"compute_ms":${msOf(t?.computeSeconds)},"batch_size":${t?.batchRows ?? 'null'},"rows":${t?.rows ?? 'null'},"bytes_in":${r.bytesIn},"bytes_out":${r.bytesOut},"cache":${t?.cache ? `"${t.cache}"` : 'null'}}\n`
    if (this.buf.length >= FLUSH_CHARS) this.flush()
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS)
      this.timer.unref()
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (!this.buf) return
    this.dest.write(this.buf)
    this.buf = ''
  }

  /** Writes what is buffered and closes a file destination (stderr stays open). */
  async close(): Promise<void> {
    if (this.closed) return
    this.flush()
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
