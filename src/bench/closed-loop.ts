/**
 * Closed loop (fixed concurrency): autocannon drives N keep-alive connections, each sending its next
 * request as soon as the previous answer arrives.
 *
 * Measurement choices, and why:
 * - autocannon's coordinated-omission correction uses an expected interval of ceil(1/rate) (1 ms
 *   whatever the rate) and invents impossible latencies. It only runs when a rate is set, and autocannon 9
 *   refuses `ignoreCoordinatedOmission: true` without one ("makes no sense without connectionRate or
 *   overallRate"), so we set no rate and the correction never runs; our histogram is ours anyway.
 *   Closed loop is coordinated by nature: use the open-loop mode for honest latency under stalls.
 * - Latencies are recorded by us in microseconds from the per-request duration autocannon's client
 *   computes with process.hrtime() between writing the request and parsing the full response
 *   (its own histogram truncates to whole milliseconds).
 * - One autocannon instance per point runs "forever"; windows are cut by swapping our recorder, and
 *   `sampleInt: 100` lets stop() take effect within 0.1 s.
 */
import autocannon from 'autocannon'
import {TfsoptError} from '../errors.js'
import {recordMs} from './histogram.js'
import {newWindow, type LoadGenerator, type WindowCounters} from './window.js'
import type {HttpRequests} from './http-requests.js'

export interface ClosedLoopOptions {
  url: string
  concurrency: number
  requests: HttpRequests
  timeoutS?: number
}

export class ClosedLoop implements LoadGenerator {
  private win: WindowCounters = newWindow()
  private instance?: autocannon.Instance
  private done?: Promise<void>
  private outstanding = 0
  constructor(private readonly opts: ClosedLoopOptions) {}

  async start(): Promise<void> {
    const {url, concurrency, requests} = this.opts
    const batch = requests.clientBatch
    const path = requests.path
    let failure: Error | undefined
    this.done = new Promise((resolve) => {
      this.instance = autocannon(
        {
          url: new URL(path, url).toString(),
          connections: concurrency,
          pipelining: 1,
          duration: 24 * 3600,
          timeout: this.opts.timeoutS ?? 30,
          sampleInt: 100,
          method: 'POST',
          headers: {'content-type': 'application/json'},
          requests: [
            {
              method: 'POST',
              path,
              // Called right before each request is written: a fresh body each time (repeat-ratio control).
              setupRequest: (req) => {
                this.win.sent++
                this.outstanding++
                const r = requests.next()
                return {...req, body: r.body, headers: {...req.headers, ...r.headers}}
              },
            },
          ],
        },
        (err: Error | null) => {
          if (err) failure = err
          resolve()
        },
      )
    })
    const inst = this.instance!
    if (typeof inst.stop !== 'function') {
      await this.done
      throw new TfsoptError('E_RUNTIME', `autocannon refused the options: ${failure?.message ?? 'unknown error'}`)
    }
    inst.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      this.outstanding = Math.max(0, this.outstanding - 1)
      if (statusCode >= 200 && statusCode < 300) {
        this.win.ok++
        this.win.inferences += batch
        recordMs(this.win.hist, responseTime)
      } else this.win.non2xx++
    })
    inst.on('reqError', (err: Error) => {
      this.outstanding = Math.max(0, this.outstanding - 1)
      if (/timed out/i.test(err.message)) this.win.timeouts++
      else this.win.connection++
    })
  }

  rotate(): WindowCounters {
    const w = this.win
    this.win = newWindow()
    return w
  }

  inflight(): number {
    return Math.min(this.outstanding, this.opts.concurrency)
  }

  async stop(): Promise<void> {
    this.instance?.stop()
    await this.done
  }
}
