/**
 * A fixed number of worker threads for one model version. Each worker runs one batch at a time; the
 * batcher asks for an idle one. A worker that dies is replaced, and only the batch it was running
 * fails (503); requests still queued simply wait for the replacement.
 */
import {Worker} from 'node:worker_threads'
import {TfsoptError} from '../errors.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import type {WorkerModelInfo} from './types.js'
import type {WorkerInit} from './worker.js'
import {workerEntry} from './worker-entry.js'

export interface RunResult {outputs: Record<string, Tensor>; computeSeconds: number}

interface Pending {resolve(r: RunResult): void; reject(e: Error): void}

export class PoolWorker {
  busy = false
  private pending = new Map<number, Pending>()
  private nextId = 1
  constructor(readonly thread: Worker) {}

  run(feeds: Feeds, outputs?: string[]): Promise<RunResult> {
    const id = this.nextId++
    const transfer = new Set<ArrayBuffer>()
    for (const t of Object.values(feeds)) if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer)
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      this.thread.postMessage({type: 'run', id, feeds, outputs}, [...transfer])
    })
  }

  settle(msg: {type: string; id: number; outputs?: Record<string, Tensor>; computeSeconds?: number; message?: string}): void {
    const p = this.pending.get(msg.id)
    if (!p) return
    this.pending.delete(msg.id)
    if (msg.type === 'result') p.resolve({outputs: msg.outputs!, computeSeconds: msg.computeSeconds!})
    else p.reject(new TfsoptError('E_RUNTIME', `inference failed: ${msg.message}`, {status: 500}))
  }

  failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }
}

export interface PoolEvents {
  /** A worker became idle (or a new one ready): the batcher may dispatch. */
  onIdle(): void
  onRestart(reason: string): void
  onWorkersChanged(n: number): void
  log(line: string): void
}

export class WorkerPool {
  private workers: PoolWorker[] = []
  private closed = false
  info?: WorkerModelInfo

  constructor(private readonly init: WorkerInit, readonly size: number, private readonly events: PoolEvents) {}

  /** Starts every worker; resolves with the model's I/O once all are loaded and warmed up. */
  async start(): Promise<WorkerModelInfo> {
    const infos = await Promise.all(Array.from({length: this.size}, () => this.spawn()))
    this.info = infos[0]
    return this.info!
  }

  private spawn(): Promise<WorkerModelInfo> {
    const entry = workerEntry()
    const thread = new Worker(entry.source, {workerData: this.init, eval: entry.eval})
    const w = new PoolWorker(thread)
    return new Promise((resolve, reject) => {
      let ready = false
      thread.on('message', (msg: {type: string; info?: WorkerModelInfo; message?: string; id?: number}) => {
        if (msg.type === 'ready') {
          ready = true
          this.workers.push(w)
          this.events.onWorkersChanged(this.workers.length)
          resolve(msg.info!)
          this.events.onIdle()
        } else if (msg.type === 'load-error') {
          reject(new TfsoptError('E_RUNTIME', msg.message ?? 'the model failed to load'))
          void thread.terminate()
        } else if (msg.type === 'log') {
          this.events.log(msg.message ?? '')
        } else {
          w.settle(msg as never)
          w.busy = false
          this.events.onIdle()
        }
      })
      thread.on('error', (err) => {
        if (!ready) reject(new TfsoptError('E_RUNTIME', `worker failed to start: ${err.message}`))
        else this.events.log(`worker error: ${err.message}`)
      })
      thread.on('exit', (code) => {
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
        this.replace()
      })
    })
  }

  private replace(attempt = 0): void {
    if (this.closed) return
    this.spawn().catch((err: Error) => {
      this.events.log(`worker restart failed: ${err.message}; retrying`)
      setTimeout(() => this.replace(attempt + 1), Math.min(5000, 250 * 2 ** attempt)).unref()
    })
  }

  acquire(): PoolWorker | undefined {
    for (const w of this.workers) {
      if (!w.busy) {
        w.busy = true
        return w
      }
    }
    return undefined
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
      void w.thread.terminate()
    }
    return true
  }

  async close(): Promise<void> {
    this.closed = true
    const ws = this.workers.splice(0)
    await Promise.all(ws.map((w) => w.thread.terminate()))
  }
}
