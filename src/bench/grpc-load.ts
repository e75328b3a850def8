/**
 * gRPC load for TF Serving's PredictionService/Predict or KServe v2's ModelInfer (autocannon speaks
 * only HTTP/1.1). Requests are
 * serialised once up front (PredictRequest bytes from the generated codecs) and sent as they are over
 * several grpc-js channels, round-robin, so the generator spends its CPU on sending, not encoding.
 *
 * - Closed loop: `concurrency` callers, each sending its next request when its answer arrives; latency
 *   from the actual send.
 * - Open loop (wrk2's method, as the HTTP open loop): every request has an intended send time from a
 *   constant or Poisson schedule; at most `maxInflight` are outstanding (the rest wait, in order, and
 *   their wait is charged: latency runs from the intended time).
 * A non-OK status counts as non2xx (UNAVAILABLE from a full queue included), DEADLINE_EXCEEDED as a
 * timeout, UNAVAILABLE without a server answer (no connection) as a connection error.
 */
import {type Client, Metadata, status as Code, type ServiceError} from '@grpc/grpc-js'
import {predictionClient} from '../server/grpc/client.js'
import {recordMs} from './histogram.js'
import {LATE_SEND_MS} from './open-loop.js'
import {Schedule, type Arrival} from './schedule.js'
import {newWindow, type LoadGenerator, type WindowCounters} from './window.js'

export const PREDICT_PATH = '/tensorflow.serving.PredictionService/Predict'
export const V2_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer'

export interface GrpcRequestSource {
  /** The next request, already serialised (a PredictRequest or ModelInferRequest). */
  next(): Uint8Array
  /** Inferences one request carries (its batch). */
  clientBatch: number
}

interface Common {
  /** host:port */
  target: string
  requests: GrpcRequestSource
  /** The method to call (default TF Serving's Predict; V2_INFER_PATH for KServe v2's ModelInfer). */
  method?: string
  /** Channels (HTTP/2 connections) to spread calls over (default 4, at most the concurrency). */
  channels?: number
  metadata?: Metadata
  timeoutS?: number
}
export type GrpcLoadOptions = Common &
  ({mode: 'closed'; concurrency: number} | {mode: 'open'; rate: number; arrival: Arrival; seed?: number; maxInflight?: number})

const identity = (b: Buffer) => b
const passBytes = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)

type Outcome = 'ok' | 'non2xx' | 'timeout' | 'connection'

function outcomeOf(err: ServiceError | null): Outcome {
  if (!err) return 'ok'
  if (err.code === Code.DEADLINE_EXCEEDED) return 'timeout'
  // grpc-js reports a failed connection as UNAVAILABLE with no server-sent details of its own.
  if (err.code === Code.UNAVAILABLE && /No connection established|connect|ECONNREFUSED/i.test(err.details)) return 'connection'
  return 'non2xx'
}

export class GrpcLoad implements LoadGenerator {
  private win: WindowCounters = newWindow()
  private clients: Client[] = []
  private rr = 0
  private running = false
  private pending = 0
  private waiting: bigint[] = []
  private drained?: () => void
  private timer?: NodeJS.Timeout
  private schedule?: Schedule
  private t0 = 0n
  private loops: Promise<void>[] = []

  constructor(private readonly opts: GrpcLoadOptions) {}

  async start(): Promise<void> {
    const {opts} = this
    const want = opts.channels ?? 4
    const n = Math.max(1, opts.mode === 'closed' ? Math.min(want, opts.concurrency) : want)
    // Distinct channel options keep grpc-js from sharing one subchannel (one TCP connection) among them.
    for (let i = 0; i < n; i++) this.clients.push(predictionClient(opts.target, {'grpc.channel_id': i} as never))
    this.running = true
    this.t0 = process.hrtime.bigint()
    if (opts.mode === 'closed') for (let i = 0; i < opts.concurrency; i++) this.loops.push(this.closedLoop())
    else {
      this.schedule = new Schedule(opts.rate, opts.arrival, opts.seed ?? 1)
      this.tick()
    }
  }

  /** One call; resolves with its outcome (never rejects). */
  private send(): Promise<Outcome> {
    const c = this.clients[this.rr++ % this.clients.length]!
    const deadline = Date.now() + (this.opts.timeoutS ?? 30) * 1000
    this.win.sent++
    return new Promise((resolve) => {
      c.makeUnaryRequest(
        this.opts.method ?? PREDICT_PATH,
        passBytes,
        identity,
        this.opts.requests.next(),
        this.opts.metadata?.clone() ?? new Metadata(),
        {deadline},
        (err) => resolve(outcomeOf(err)),
      )
    })
  }

  private record(kind: Outcome, fromNs: bigint): void {
    const w = this.win
    if (kind === 'ok') {
      w.ok++
      w.inferences += this.opts.requests.clientBatch
      recordMs(w.hist, Number(process.hrtime.bigint() - fromNs) / 1e6)
    } else if (kind === 'non2xx') w.non2xx++
    else if (kind === 'timeout') w.timeouts++
    else w.connection++
  }

  private async closedLoop(): Promise<void> {
    while (this.running) {
      const t = process.hrtime.bigint()
      this.pending++
      const kind = await this.send()
      this.pending--
      if (this.running) this.record(kind, t)
    }
  }

  private tick = (): void => {
    if (!this.running || !this.schedule) return
    const now = Number(process.hrtime.bigint() - this.t0) / 1e9
    while (this.schedule.peek() <= now) {
      const intended = this.schedule.next()
      if ((now - intended) * 1000 > LATE_SEND_MS) this.win.lateSends++
      this.waiting.push(this.t0 + BigInt(Math.round(intended * 1e9)))
    }
    this.pump()
    const waitMs = (this.schedule.peek() - Number(process.hrtime.bigint() - this.t0) / 1e9) * 1000
    this.timer = setTimeout(this.tick, Math.max(0, Math.floor(waitMs)))
  }

  /** Open loop: sends waiting requests while fewer than maxInflight are outstanding. */
  private pump(): void {
    const max = this.opts.mode === 'open' ? (this.opts.maxInflight ?? 2048) : Infinity
    while (this.waiting.length && this.pending < max) {
      const intendedNs = this.waiting.shift()!
      this.pending++
      void this.send().then((kind) => {
        this.pending--
        if (this.running) {
          this.record(kind, intendedNs)
          this.pump()
        }
        if (this.pending === 0 && this.drained) this.drained()
      })
    }
  }

  rotate(): WindowCounters {
    const w = this.win
    this.win = newWindow()
    return w
  }

  inflight(): number {
    return this.pending
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.waiting = []
    // Let in-flight calls finish briefly (they are not recorded any more), then close the channels.
    if (this.pending > 0) await Promise.race([new Promise<void>((r) => (this.drained = r)), Promise.all(this.loops), new Promise((r) => setTimeout(r, 2000))])
    for (const c of this.clients) c.close()
  }
}
