/**
 * Dynamic batching with TF Serving's semantics. Requests with the same key (signature, dtypes and
 * non-batch dimensions) join the newest open batch while it has room; a batch is schedulable when it is
 * full, when a newer batch of its key exists, or when its oldest request has waited batch_timeout_micros.
 * A batch is taken only when a worker is idle, so with timeout 0 the open batch keeps growing while all
 * workers are busy — the batch size adapts to the load. Beyond max_enqueued_batches waiting batches a
 * request fails at once with 503. Batches are padded up to the next allowed size by repeating row 0,
 * and results are split back per request, in order.
 */
import {TfsoptError} from '../errors.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import type {BatchingConfig} from './types.js'
import type {RunResult, WorkerPool} from './worker-pool.js'
import {elementCount} from './tensor-json.js'

export interface BatchStats {
  rows: number
  padding: number
  requests: number
  queueSeconds: number[]
  computeSeconds: number
}

export interface BatcherHooks {
  onBatch(stats: BatchStats): void
  onQueueChanged(queuedRequests: number): void
}

interface Item {
  feeds: Feeds
  rows: number
  enqueuedAt: number
  resolve(out: Record<string, Tensor>): void
  reject(err: Error): void
}

interface Batch {
  key: string
  items: Item[]
  rows: number
  closed: boolean
}

export function batchKey(feeds: Feeds, signature: string): string {
  let k = signature
  for (const name of Object.keys(feeds).sort()) {
    const t = feeds[name]!
    k += `|${name}:${t.dtype}:${t.dims.slice(1).join('x')}`
  }
  return k
}

export class Batcher {
  private queue: Batch[] = []
  private queued = 0
  private running = 0
  private timer: NodeJS.Timeout | undefined
  private drainWaiters: (() => void)[] = []

  constructor(private readonly cfg: BatchingConfig, private readonly pool: WorkerPool, private readonly hooks: BatcherHooks) {}

  /** Queues one request; resolves with its own rows of every output. */
  submit(feeds: Feeds, rows: number, signature: string): Promise<Record<string, Tensor>> {
    return new Promise((resolve, reject) => {
      const item: Item = {feeds, rows, enqueuedAt: performance.now(), resolve, reject}
      const key = this.cfg.enabled ? batchKey(feeds, signature) : ''
      let target: Batch | undefined
      if (this.cfg.enabled) {
        for (let i = this.queue.length - 1; i >= 0; i--) {
          const b = this.queue[i]!
          if (b.key !== key || b.closed) continue
          if (b.rows + rows <= this.cfg.maxBatchSize) target = b
          else b.closed = true // a request that does not fit closes it, as in TF's scheduler
          break
        }
      }
      if (!target) {
        if (this.queue.length >= this.cfg.maxEnqueuedBatches) {
          reject(new TfsoptError('E_UNAVAILABLE', `the batching queue is full (${this.cfg.maxEnqueuedBatches} batches waiting, --max-enqueued-batches); retry later or add workers`))
          return
        }
        target = {key, items: [], rows: 0, closed: !this.cfg.enabled}
        this.queue.push(target)
      }
      target.items.push(item)
      target.rows += rows
      if (this.cfg.enabled && target.rows >= this.cfg.maxBatchSize) target.closed = true
      this.queued++
      this.hooks.onQueueChanged(this.queued)
      this.pump()
    })
  }

  /** Dispatches schedulable batches to idle workers; arms a timer for the oldest open batch. */
  pump(): void {
    const timeoutMs = this.cfg.batchTimeoutMicros / 1000
    while (this.queue.length) {
      const now = performance.now()
      const idx = this.queue.findIndex((b) => b.closed || now - b.items[0]!.enqueuedAt >= timeoutMs)
      if (idx < 0) {
        this.armTimer(Math.max(0, timeoutMs - (now - this.queue[0]!.items[0]!.enqueuedAt)))
        return
      }
      const worker = this.pool.acquire()
      if (!worker) return
      const [batch] = this.queue.splice(idx, 1)
      this.queued -= batch!.items.length
      this.hooks.onQueueChanged(this.queued)
      this.dispatch(batch!, (feeds) => worker.run(feeds))
    }
  }

  private armTimer(ms: number): void {
    if (this.timer) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.pump()
    }, Math.max(0, ms))
  }

  private dispatch(batch: Batch, run: (feeds: Feeds) => Promise<RunResult>): void {
    const start = performance.now()
    const queueSeconds = batch.items.map((i) => (start - i.enqueuedAt) / 1000)
    const padTo = this.cfg.enabled ? this.cfg.allowedBatchSizes.find((s) => s >= batch.rows) ?? batch.rows : batch.rows
    const feeds = batch.items.length === 1 && padTo === batch.rows ? batch.items[0]!.feeds : concatFeeds(batch.items.map((i) => i.feeds), batch.rows, padTo)
    this.running++
    run(feeds).then((res) => {
      this.hooks.onBatch({rows: batch.rows, padding: padTo - batch.rows, requests: batch.items.length, queueSeconds, computeSeconds: res.computeSeconds})
      if (batch.items.length === 1 && padTo === batch.rows) batch.items[0]!.resolve(res.outputs)
      else {
        let off = 0
        for (const it of batch.items) {
          it.resolve(sliceRows(res.outputs, off, it.rows))
          off += it.rows
        }
      }
    }, (err: Error) => {
      for (const it of batch.items) it.reject(err)
    }).finally(() => {
      this.running--
      this.checkDrained()
    })
  }

  get pending(): number {
    return this.queued + this.running
  }

  /** Resolves once nothing is queued or running (used to unload a version and to shut down). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((r) => this.drainWaiters.push(r))
  }

  private checkDrained(): void {
    if (this.pending === 0) for (const r of this.drainWaiters.splice(0)) r()
  }

  /** Fails everything still queued (drain timeout expired). */
  abort(err: Error): void {
    for (const b of this.queue.splice(0)) for (const it of b.items) it.reject(err)
    this.queued = 0
    this.hooks.onQueueChanged(0)
    if (this.timer) clearTimeout(this.timer)
    this.checkDrained()
  }
}

/** Concatenates each input along dimension 0, then pads with copies of row 0 up to `padTo` rows. */
export function concatFeeds(list: Feeds[], rows: number, padTo: number): Feeds {
  const out: Feeds = {}
  for (const name of Object.keys(list[0]!)) {
    const first = list[0]![name]!
    const inner = elementCount(first.dims.slice(1))
    const dims = [padTo, ...first.dims.slice(1)]
    let data: Tensor['data']
    if (Array.isArray(first.data)) {
      const arr: string[] = []
      for (const f of list) arr.push(...(f[name]!.data as string[]))
      for (let r = rows; r < padTo; r++) arr.push(...(first.data as string[]).slice(0, inner))
      data = arr
    } else {
      const Ctor = first.data.constructor as new (n: number) => Exclude<Tensor['data'], string[]>
      const typed = new Ctor(padTo * inner)
      let off = 0
      for (const f of list) {
        const d = f[name]!.data as Exclude<Tensor['data'], string[]>
        typed.set(d as never, off)
        off += d.length
      }
      const row0 = (first.data as Exclude<Tensor['data'], string[]>).subarray(0, inner)
      for (let r = rows; r < padTo; r++) typed.set(row0 as never, r * inner)
      data = typed
    }
    out[name] = {dtype: first.dtype, dims, data}
  }
  return out
}

/** Rows [off, off + n) of every output, as views (no copy). */
export function sliceRows(outputs: Record<string, Tensor>, off: number, n: number): Record<string, Tensor> {
  const res: Record<string, Tensor> = {}
  for (const [k, t] of Object.entries(outputs)) {
    const inner = elementCount(t.dims.slice(1))
    const data = Array.isArray(t.data) ? t.data.slice(off * inner, (off + n) * inner) : t.data.subarray(off * inner, (off + n) * inner)
    res[k] = {dtype: t.dtype, dims: [n, ...t.dims.slice(1)], data}
  }
  return res
}
