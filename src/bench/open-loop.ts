/**
 * Open loop (fixed arrival rate), wrk2's method: every request has an intended send time from a constant
 * or Poisson schedule fixed in advance, it is sent at that time whatever the server is doing, and its
 * latency is measured from the intended time — so time a request spent waiting to be sent (a busy
 * generator, a stalled server holding every socket) counts against the server, not hidden.
 *
 * Our own scheduler over node:http keep-alive sockets (autocannon's rate limit is a per-second token
 * bucket: bursty, and its latencies start at the actual send). The socket pool is large (2048) rather
 * than unbounded so a dead server cannot exhaust file descriptors; requests beyond it queue in the agent
 * and that queueing is still charged from the intended time. Sends that leave more than LATE_SEND_MS
 * after their intended time are counted: perf_analyzer warns above 1%.
 */
import http from 'node:http'
import {recordMs} from './histogram.js'
import {Schedule, type Arrival} from './schedule.js'
import {newWindow, type LoadGenerator, type WindowCounters} from './window.js'
import type {HttpRequests} from './http-requests.js'

/** Node timers fire at ~1 ms granularity; later than this is a late send. */
export const LATE_SEND_MS = 2

export interface OpenLoopOptions {
  url: string
  rate: number
  arrival: Arrival
  requests: HttpRequests
  seed?: number
  timeoutS?: number
  maxSockets?: number
}

export class OpenLoop implements LoadGenerator {
  private win: WindowCounters = newWindow()
  private readonly agent: http.Agent
  private readonly schedule: Schedule
  private t0 = 0n
  private running = false
  private timer?: NodeJS.Timeout
  private pending = 0
  private drained?: () => void
  private readonly target: URL

  constructor(private readonly opts: OpenLoopOptions) {
    this.agent = new http.Agent({keepAlive: true, maxSockets: opts.maxSockets ?? 2048})
    this.schedule = new Schedule(opts.rate, opts.arrival, opts.seed ?? 1)
    this.target = new URL(opts.url)
  }

  async start(): Promise<void> {
    this.t0 = process.hrtime.bigint()
    this.running = true
    this.tick()
  }

  private elapsedS(): number {
    return Number(process.hrtime.bigint() - this.t0) / 1e9
  }

  private tick = (): void => {
    if (!this.running) return
    const now = this.elapsedS()
    // Send everything whose intended time has come (a burst when the timer woke late).
    while (this.schedule.peek() <= now) {
      const intended = this.schedule.next()
      if ((now - intended) * 1000 > LATE_SEND_MS) this.win.lateSends++
      this.send(intended)
    }
    const waitMs = (this.schedule.peek() - this.elapsedS()) * 1000
    this.timer = setTimeout(this.tick, Math.max(0, Math.floor(waitMs)))
  }

  private send(intendedS: number): void {
    const {body, headers} = this.opts.requests.next()
    const batch = this.opts.requests.clientBatch
    const intendedNs = this.t0 + BigInt(Math.round(intendedS * 1e9))
    this.win.sent++
    this.pending++
    let settled = false
    const finish = (kind: 'ok' | 'non2xx' | 'timeout' | 'connection') => {
      if (settled) return
      settled = true
      this.pending--
      const w = this.win
      if (kind === 'ok') {
        w.ok++
        w.inferences += batch
        recordMs(w.hist, Number(process.hrtime.bigint() - intendedNs) / 1e6)
      } else if (kind === 'non2xx') w.non2xx++
      else if (kind === 'timeout') w.timeouts++
      else w.connection++
      if (this.pending === 0 && this.drained) this.drained()
    }
    const req = http.request(
      {
        agent: this.agent,
        host: this.target.hostname,
        port: this.target.port,
        path: this.opts.requests.path,
        method: 'POST',
        headers: {...headers, 'content-length': Buffer.byteLength(body)},
      },
      (res) => {
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300
        res.on('data', () => {})
        res.on('end', () => finish(ok ? 'ok' : 'non2xx'))
        res.on('error', () => finish('connection'))
      },
    )
    req.setTimeout((this.opts.timeoutS ?? 30) * 1000, () => {
      finish('timeout')
      req.destroy()
    })
    req.on('error', () => finish('connection'))
    req.end(body)
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
    // Let in-flight requests finish briefly (they are not recorded any more), then drop the sockets.
    if (this.pending > 0) await Promise.race([new Promise<void>((r) => (this.drained = r)), new Promise((r) => setTimeout(r, 2000))])
    this.agent.destroy()
  }
}
