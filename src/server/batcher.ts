/**
 * Dynamic batching with TF Serving's semantics. Requests with the same key (signature, dtypes and
 * non-batch dimensions) join the newest open batch while it has room; a batch is schedulable when it is
 * full, when a newer batch of its key exists, or when its oldest request has waited batch_timeout_micros.
 * A batch is taken only when a worker is idle, so with timeout 0 the open batch keeps growing while all
 * workers are busy — the batch size adapts to the load. Beyond max_enqueued_batches waiting batches a
 * request fails at once with 503. Batches are padded up to the next allowed size by repeating row 0,
 * and results are split back per request, in order.
 */
import {TfsoptError, badRequest} from '../errors.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import type {PredictFormat} from './predict-codec.js'
import type {BatchingConfig} from './types.js'
import {type AssemblePlan, type PartError, ReparseBody, type ScannedBody, sliceRows} from './worker-codec.js'
import {NotStarted, type RunExtras, type RunResult, type WorkerPool} from './worker-pool.js'
import {elementCount} from './tensor-json.js'
import type {RequestTrace} from './access-log.js'

export interface BatchStats {
  rows: number
  padding: number
  requests: number
  computeSeconds: number
}

export interface BatcherHooks {
  onBatch(stats: BatchStats): void
  /** One request left the queue for a worker after waiting `seconds`. */
  onQueued(seconds: number): void
  onQueueChanged(queuedRequests: number): void
}

/** How the worker shares a request's JSON work (worker-codec.ts); absent: tensors in, tensors out. */
export interface JsonWork {
  /** A scanned, unparsed body: the worker parses its values into the batch (`feeds` then carry only dtypes and shapes). */
  scanned?: ScannedBody
  /** The answer's format: the worker may write the JSON answer itself. */
  encode?: PredictFormat
}

interface Item {
  feeds: Feeds
  rows: number
  enqueuedAt: number
  /** An access-logged request's timings (access-log.ts); undefined for all others. */
  trace?: RequestTrace
  json?: JsonWork
  /** `body`: the JSON answer, when the worker wrote it; `recycle` gives its buffer back to that worker. */
  resolve(out: Record<string, Tensor>, body?: Uint8Array, recycle?: (b: Uint8Array) => void): void
  reject(err: Error): void
}

/** A request's outputs; with the worker codec, also its JSON answer and how to give that buffer back once sent. */
export interface Answered {
  outputs: Record<string, Tensor>
  body?: Uint8Array
  recycle?: (b: Uint8Array) => void
}

const partError = (e: PartError) =>
  e.reparse ? new ReparseBody(e.reparse) : e.status === 400 ? badRequest(e.message) : new TfsoptError('E_RUNTIME', e.message, {status: e.status})

interface Batch {
  key: string
  items: Item[]
  rows: number
  closed: boolean
}

export function batchKey(feeds: Feeds, signature: string): string {
  const names = Object.keys(feeds)
  if (names.length > 1) names.sort()
  let k = signature
  for (const name of names) {
    const t = feeds[name]!
    k += `|${name}:${t.dtype}:`
    for (let i = 1; i < t.dims.length; i++) k += (i > 1 ? 'x' : '') + t.dims[i]
  }
  return k
}

export class Batcher {
  private queue: Batch[] = []
  private queued = 0
  private running = 0
  private timer: NodeJS.Timeout | undefined
  private drainWaiters: (() => void)[] = []

  constructor(
    private readonly cfg: BatchingConfig,
    private readonly pool: WorkerPool,
    private readonly hooks: BatcherHooks,
  ) {}

  /** Queues one request; resolves with its own rows of every output. */
  submit(feeds: Feeds, rows: number, signature: string, json?: JsonWork, trace?: RequestTrace): Promise<Answered> {
    return new Promise((resolve, reject) => {
      const item: Item = {
        feeds,
        rows,
        enqueuedAt: performance.now(),
        json,
        trace,
        resolve: (outputs, body, recycle) => resolve({outputs, body, recycle}),
        reject,
      }
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
        // A full queue may only be waiting for this turn's deferred pump: hand idle workers their batches first.
        if (this.waiting >= this.cfg.maxEnqueuedBatches) this.pump()
        if (this.waiting >= this.cfg.maxEnqueuedBatches) {
          reject(this.fullError())
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
      this.schedulePump()
    })
  }

  private pumpScheduled = false
  private readonly pumpNow = () => {
    this.pumpScheduled = false
    this.pump()
  }

  /**
   * A new request does not dispatch at once but at the end of this event-loop turn (setImmediate runs
   * right after the I/O callbacks of the turn): every request that arrived in the same turn then joins
   * the batch, instead of the first one leaving alone. No timer is involved, so an idle server adds no
   * delay; under load it halves the number of batches, and so the thread hand-offs, per request.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(this.pumpNow)
  }

  /** Batches waiting: in the queue, or handed to a busy worker ahead and not started (max_enqueued_batches bounds both). */
  private get waiting(): number {
    return this.queue.length + this.pool.ahead
  }

  fullError(): TfsoptError {
    return new TfsoptError(
      'E_UNAVAILABLE',
      `the batching queue is full (${this.cfg.maxEnqueuedBatches} batches waiting, --max-enqueued-batches); retry later or add workers`,
    )
  }

  /**
   * True when any new request would be refused: max_enqueued_batches are waiting and none of them is
   * open to more rows. The HTTP side asks before reading a body, so under overload a refusal costs no
   * body read and no JSON parse (never a refusal that submit() would not also make).
   */
  get full(): boolean {
    if (this.waiting < this.cfg.maxEnqueuedBatches) return false
    for (const b of this.queue) if (!b.closed) return false
    this.pump() // an idle worker may take a batch now rather than at the end of this turn
    if (this.waiting < this.cfg.maxEnqueuedBatches) return false
    for (const b of this.queue) if (!b.closed) return false
    return true
  }

  /** Dispatches schedulable batches to idle workers; arms a timer for the oldest open batch. */
  pump(): void {
    const timeoutMs = this.cfg.batchTimeoutMicros / 1000
    while (this.queue.length) {
      const now = performance.now()
      let idx = -1
      for (let i = 0; i < this.queue.length; i++) {
        const b = this.queue[i]!
        if (b.closed || now - b.items[0]!.enqueuedAt >= timeoutMs) {
          idx = i
          break
        }
      }
      if (idx < 0) {
        this.armTimer(Math.max(0, timeoutMs - (now - this.queue[0]!.items[0]!.enqueuedAt)))
        return
      }
      // An idle worker takes any schedulable batch; a busy one may take a full (closed) batch ahead,
      // which starts the moment the current one ends. An open batch keeps growing until a worker is idle.
      let worker = this.pool.acquire(false)
      const ahead = !worker && this.queue[idx]!.closed
      if (ahead) worker = this.pool.acquire(true)
      if (!worker) return
      const batch = idx === 0 ? this.queue.shift()! : this.queue.splice(idx, 1)[0]!
      this.queued -= batch.items.length
      this.hooks.onQueueChanged(this.queued)
      this.dispatch(batch, worker, ahead)
    }
  }

  private armTimer(ms: number): void {
    if (this.timer) return
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.pump()
      },
      Math.max(0, ms),
    )
  }

  private dispatch(
    batch: Batch,
    worker: {run(feeds: Feeds | undefined, transfer?: boolean, outputs?: string[], extras?: RunExtras): Promise<RunResult>},
    ahead = false,
  ): void {
    const start = performance.now()
    const items = batch.items
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!
      this.hooks.onQueued((start - it.enqueuedAt) / 1000)
      if (it.trace) it.trace.queueSeconds = (start - it.enqueuedAt) / 1000
    }
    let padTo = batch.rows
    if (this.cfg.enabled)
      for (const s of this.cfg.allowedBatchSizes)
        if (s >= batch.rows) {
          padTo = s
          break
        }
    const single = items.length === 1 && padTo === batch.rows
    let feeds: Feeds | undefined
    let extras: RunExtras | undefined
    let transfer = !(ahead && single)
    if (items.some((i) => i.json?.scanned)) {
      // The worker parses the scanned bodies into the batch. Sent ahead, they are copied, not moved, so
      // the batch can be queued again if the worker dies before starting it.
      extras = {assemble: assemblePlan(items, padTo)}
      transfer = !ahead
    } else
      feeds = single
        ? items[0]!.feeds
        : concatFeeds(
            items.map((i) => i.feeds),
            batch.rows,
            padTo,
          )
    if (items.some((i) => i.json?.encode)) {
      extras ??= {}
      extras.split = items.map((i) => ({rows: i.rows, format: i.json?.encode ?? null}))
      extras.whole = single
    }
    this.running++
    // A single request's own feeds go as they are; sent ahead they are copied, not transferred, so the
    // batch can be queued again if the worker dies before starting it.
    worker.run(feeds, transfer, undefined, extras).then(
      (res) => {
        this.running--
        this.hooks.onBatch({rows: batch.rows, padding: padTo - batch.rows, requests: items.length, computeSeconds: res.computeSeconds})
        for (const it of items)
          if (it.trace) {
            it.trace.computeSeconds = res.computeSeconds
            it.trace.batchRows = batch.rows
            it.trace.rows = it.rows
          }
        let off = 0
        for (let i = 0; i < items.length; i++) {
          const it = items[i]!
          const rowsOff = off
          off += it.rows
          const err = res.errors?.[i]
          const body = res.bodies?.[i]
          if (err) it.reject(partError(err))
          else if (body && !(body instanceof Uint8Array)) it.reject(partError(body))
          else it.resolve(single ? res.outputs : sliceRows(res.outputs, rowsOff, it.rows), body ?? undefined, body ? res.recycle : undefined)
        }
        this.checkDrained()
      },
      (err: Error) => {
        this.running--
        if (err instanceof NotStarted) {
          // Its worker died before starting it: back to the head of the queue, for the replacement.
          this.queue.unshift(batch)
          this.queued += items.length
          this.hooks.onQueueChanged(this.queued)
          this.schedulePump()
        } else for (const it of items) it.reject(err)
        this.checkDrained()
      },
    )
  }

  get pending(): number {
    return this.queued + this.running
  }

  /** Requests waiting for a worker (not yet handed to one). */
  get queuedRequests(): number {
    return this.queued
  }

  /** Resolves once nothing is queued or running (used to unload a version and to shut down). */
  drain(): Promise<void> {
    if (this.pending === 0) return Promise.resolve()
    return new Promise((r) => this.drainWaiters.push(r))
  }

  private checkDrained(): void {
    if (this.pending === 0 && this.drainWaiters.length) for (const r of this.drainWaiters.splice(0)) r()
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

/** What the worker needs to build a batch that holds scanned JSON bodies (worker-codec's assemble). */
function assemblePlan(items: Item[], padTo: number): AssemblePlan {
  const first = items[0]!.feeds
  const inputs = Object.keys(first).map((name) => ({name, dtype: first[name]!.dtype, inner: first[name]!.dims.slice(1)}))
  const parts = items.map((it) => {
    if (it.json?.scanned) return {rows: it.rows, json: it.json.scanned}
    // Decoded tensors go with the batch (transferred with it, or copied when it is sent ahead); a view
    // is cut to its own bytes first, so what moves is not a whole larger buffer (a body, a pool slab).
    const feeds: Feeds = {}
    for (const k in it.feeds) {
      const t = it.feeds[k]!
      const d = t.data
      const own = Array.isArray(d) || (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength)
      feeds[k] = own ? t : {dtype: t.dtype, dims: t.dims, data: d.slice()}
    }
    return {rows: it.rows, feeds}
  })
  return {inputs, padTo, parts}
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

export {sliceRows}
