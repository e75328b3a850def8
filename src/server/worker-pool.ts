/**
 * A fixed number of worker threads for one model version. Each worker runs one batch at a time, in
 * order; the batcher asks for an idle one, and may hand a busy worker one full batch ahead (it waits in
 * the worker's message queue), so under overload the worker starts its next batch without waiting for
 * the main thread's event loop. A worker that dies is replaced, and only the batch it was running fails
 * (503); a batch that was waiting behind it had not started and goes back to the queue.
 */
import {Worker} from 'node:worker_threads'
import {TfsoptError, type ErrorCode} from '../errors.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import type {WorkerActivity} from './metrics.js'
import type {WorkerModelInfo} from './types.js'
import type {WorkerInit} from './worker.js'
import type {AssemblePlan, PartError, SplitItem} from './worker-codec.js'
import {workerEntry} from './worker-entry.js'

export interface RunResult {
  outputs: Record<string, Tensor>
  computeSeconds: number
  /** Per request, with `assemble`: why the worker refused its values (null: it ran). */
  errors?: (PartError | null)[]
  /** Per request, with `split`: its JSON answer written by the worker, or an error (null: not written). */
  bodies?: (Uint8Array | PartError | null)[]
  /** Gives an answer's buffer back to the worker that wrote it, once it is sent (worker.ts recycles it). */
  recycle?: (b: Uint8Array) => void
}

/** The work-sharing fields of a run message beyond plain feeds (worker-codec.ts). */
export interface RunExtras {
  assemble?: AssemblePlan
  split?: SplitItem[]
  whole?: boolean
}

interface Pending {
  resolve(r: RunResult): void
  reject(e: Error): void
}

/** A batch sent to a worker that died before starting it: the batcher queues it again. */
export class NotStarted extends Error {
  constructor() {
    super('the worker died before this batch started')
  }
}

/** Batches a worker may hold: the one it runs and one waiting behind it. */
export const MAX_AHEAD = 2

export class PoolWorker {
  /** Batches sent and not yet answered (the first one is running). */
  inflight = 0
  private pending = new Map<number, Pending>()
  private nextId = 1
  /**
   * @param slot a stable index (0..size-1) that a replacement worker takes over, so per-worker metrics
   * keep a bounded label set across crashes.
   */
  constructor(
    readonly thread: Worker,
    readonly slot: number,
  ) {}

  get busy(): boolean {
    return this.inflight > 0
  }

  /** Moves an answer buffer back to this worker's pool (not copied); a worker that has gone just drops it. */
  readonly recycle = (b: Uint8Array): void => {
    if (b.byteOffset !== 0 || !(b.buffer instanceof ArrayBuffer)) return
    try {
      this.thread.postMessage({type: 'recycle', buffer: b.buffer}, [b.buffer])
    } catch {
      // terminated: nothing to give back to
    }
  }

  /**
   * Sends one batch. With `transfer` the input buffers move to the worker (no copy); a batch sent ahead
   * is copied instead, so that it can be queued again if the worker dies first.
   */
  run(feeds: Feeds | undefined, transfer = true, outputs?: string[], extras?: RunExtras): Promise<RunResult> {
    const id = this.nextId++
    this.inflight++
    let list: ArrayBuffer[] | undefined
    const add = (b: ArrayBufferLike) => {
      if (b instanceof ArrayBuffer && !(list ??= []).includes(b)) list.push(b)
    }
    if (transfer) {
      for (const k in feeds) {
        const d = feeds[k]!.data
        if (!Array.isArray(d)) add(d.buffer)
      }
      // Scanned JSON bodies move to the worker whole (the handler gives each its own ArrayBuffer), and so
      // do the decoded tensors batched with them (the batcher gives each its own buffer).
      for (const p of extras?.assemble?.parts ?? [])
        if (p.json) add(p.json.body.buffer)
        else
          for (const k in p.feeds) {
            const d = p.feeds[k]!.data
            if (!Array.isArray(d)) add(d.buffer)
          }
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      this.thread.postMessage({type: 'run', id, feeds, outputs, ...extras}, list)
    })
  }

  settle(msg: {
    type: string
    id: number
    outputs?: Record<string, Tensor>
    computeSeconds?: number
    message?: string
    errors?: RunResult['errors']
    bodies?: RunResult['bodies']
  }): void {
    const p = this.pending.get(msg.id)
    if (!p) return
    this.pending.delete(msg.id)
    this.inflight--
    if (msg.type === 'result')
      p.resolve({
        outputs: msg.outputs!,
        computeSeconds: msg.computeSeconds!,
        errors: msg.errors,
        bodies: msg.bodies,
        recycle: msg.bodies ? this.recycle : undefined,
      })
    else p.reject(new TfsoptError('E_RUNTIME', `inference failed: ${msg.message}`, {status: 500}))
  }

  /** The worker is gone: the batch it was running (the oldest) fails with `err`; the rest never started. */
  failAll(err: Error): void {
    let first = true
    for (const p of this.pending.values()) {
      p.reject(first ? err : new NotStarted())
      first = false
    }
    this.pending.clear()
    this.inflight = 0
  }
}

export interface PoolEvents {
  /** A worker became idle (or a new one ready): the batcher may dispatch. */
  onIdle(): void
  onRestart(reason: string): void
  onWorkersChanged(n: number): void
  /** A worker slot spent `seconds` busy on `activity` (reported per batch by the worker). */
  onBusy(slot: number, activity: WorkerActivity, seconds: number): void
  log(line: string): void
}

export class WorkerPool {
  private workers: PoolWorker[] = []
  /** Threads started but not yet ready (a replacement loading its model): close() must stop them too. */
  private starting = new Set<Worker>()
  private closed = false
  info?: WorkerModelInfo

  constructor(
    private readonly init: WorkerInit,
    readonly size: number,
    private readonly events: PoolEvents,
  ) {}

  /** Starts every worker; resolves with the model's I/O once all are loaded and warmed up. */
  async start(): Promise<WorkerModelInfo> {
    const infos = await Promise.all(Array.from({length: this.size}, (_, slot) => this.spawn(slot)))
    const counted = infos.filter((i) => i.runtimeBytes !== undefined)
    this.info = counted.length ? {...infos[0]!, runtimeBytes: counted.reduce((a, i) => a + i.runtimeBytes!, 0)} : infos[0]
    return this.info!
  }

  private spawn(slot: number): Promise<WorkerModelInfo> {
    const entry = workerEntry()
    const thread = new Worker(entry.source, {workerData: this.init, eval: entry.eval})
    const w = new PoolWorker(thread, slot)
    this.starting.add(thread)
    return new Promise((resolve, reject) => {
      let ready = false
      thread.on('message', (msg: {type: string; info?: WorkerModelInfo; message?: string; id?: number; code?: ErrorCode}) => {
        if (msg.type === 'ready') {
          this.starting.delete(thread)
          // A replacement that finishes loading after close() began would keep the process alive.
          if (this.closed) {
            void thread.terminate()
            reject(new TfsoptError('E_UNAVAILABLE', 'the worker pool closed while this worker was starting'))
            return
          }
          ready = true
          this.workers.push(w)
          this.events.onWorkersChanged(this.workers.length)
          resolve(msg.info!)
          this.events.onIdle()
        } else if (msg.type === 'load-error') {
          reject(new TfsoptError(msg.code ?? 'E_RUNTIME', msg.message ?? 'the model failed to load'))
          void thread.terminate()
        } else if (msg.type === 'log') {
          this.events.log(msg.message ?? '')
        } else {
          const m = msg as {computeSeconds?: number; decodeSeconds?: number; encodeSeconds?: number; loopSeconds?: number}
          if (m.loopSeconds) this.events.onBusy(slot, 'loop', m.loopSeconds)
          if (m.computeSeconds) this.events.onBusy(slot, 'inference', m.computeSeconds)
          if (m.decodeSeconds) this.events.onBusy(slot, 'decode', m.decodeSeconds)
          if (m.encodeSeconds) this.events.onBusy(slot, 'encode', m.encodeSeconds)
          w.settle(msg as never)
          this.events.onIdle()
        }
      })
      thread.on('error', (err) => {
        if (!ready) reject(new TfsoptError('E_RUNTIME', `worker failed to start: ${err.message}`))
        else this.events.log(`worker error: ${err.message}`)
      })
      thread.on('exit', (code) => {
        this.starting.delete(thread)
        if (!ready) {
          reject(new TfsoptError('E_RUNTIME', `worker exited (code ${code}) before the model loaded`))
          return
        }
        const idx = this.workers.indexOf(w)
        if (idx >= 0) this.workers.splice(idx, 1)
        this.events.onWorkersChanged(this.workers.length)
        w.failAll(new TfsoptError('E_UNAVAILABLE', 'the worker running this request crashed; it is being replaced, retry the request'))
        if (this.closed) return
        this.events.onRestart(`worker exited with code ${code}`)
        this.replace(slot)
      })
    })
  }

  private replace(slot: number, attempt = 0): void {
    if (this.closed) return
    this.spawn(slot).catch((err: Error) => {
      this.events.log(`worker restart failed: ${err.message}; retrying`)
      setTimeout(() => this.replace(slot, attempt + 1), Math.min(5000, 250 * 2 ** attempt)).unref()
    })
  }

  /** An idle worker; with `ahead`, else one that runs a batch and has none waiting behind it. */
  acquire(ahead = false): PoolWorker | undefined {
    for (const w of this.workers) if (w.inflight === 0) return w
    if (ahead) for (const w of this.workers) if (w.inflight < MAX_AHEAD) return w
    return undefined
  }

  /** Batches handed to busy workers ahead of time, not yet started: they count against the queue bound. */
  get ahead(): number {
    let n = 0
    for (const w of this.workers) if (w.inflight > 1) n += w.inflight - 1
    return n
  }

  get live(): number {
    return this.workers.length
  }

  /** Test hook: 'now' terminates a worker at once; 'next' makes one die inside its next batch. */
  kill(mode: 'now' | 'next'): boolean {
    const w = this.workers.find((x) => x.busy) ?? this.workers[0]
    if (!w) return false
    if (mode === 'next') w.thread.postMessage({type: 'crash-next'})
    else {
      // Out of rotation first, so no new batch is sent to a thread that is going away.
      this.workers.splice(this.workers.indexOf(w), 1)
      this.events.onWorkersChanged(this.workers.length)
      void w.thread.terminate()
    }
    return true
  }

  async close(): Promise<void> {
    this.closed = true
    const ws = this.workers.splice(0)
    const starting = [...this.starting]
    this.starting.clear()
    await Promise.all([...ws.map((w) => w.thread.terminate()), ...starting.map((t) => t.terminate())])
  }
}
