/**
 * One loaded model version: its worker pool, its batcher and what it tells the world about itself.
 * Loading starts the workers (each opens and warms up its own session); the batching settings are
 * resolved once the model's inputs and outputs are known, and refused there if they cannot work.
 */
import {badRequest, TfsoptError} from '../errors.js'
import type {DetectedModel} from '../models/detect.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import {type Answered, Batcher, type JsonWork} from './batcher.js'
import {GPU_BATCHING_DEFAULTS, resolveBatching} from './batching-config.js'
import {isGpuProvider} from '../runtime/devices.js'
import {gpuMetricsFor} from './gpu-metrics.js'
import type {ServerMetrics, VersionMetrics} from './metrics.js'
import type {BatchingConfig, BatchingFlags, RuntimeSettings, WorkerModelInfo} from './types.js'
import {WorkerPool} from './worker-pool.js'
import type {RequestTrace} from './access-log.js'

export class Servable {
  info!: WorkerModelInfo
  batching!: BatchingConfig
  /** Label-bound metric cells of this version (no label lookups on the hot path). */
  readonly metrics: VersionMetrics
  /** The model's output names, in its order: the order answers list them in. */
  outputOrder: string[] = []
  private pool: WorkerPool
  private batcher!: Batcher
  private readonly labels: {model: string; version: string}

  constructor(
    readonly model: string,
    readonly version: number,
    readonly detected: DetectedModel,
    readonly runtime: RuntimeSettings,
    private readonly batchingFlags: BatchingFlags,
    private readonly serverMetrics: ServerMetrics,
    log: (line: string) => void,
  ) {
    this.labels = {model, version: String(version)}
    this.metrics = serverMetrics.forVersion(model, this.labels.version)
    const metrics = serverMetrics
    this.pool = new WorkerPool(
      {
        model: detected,
        backend: runtime.backend,
        device: runtime.device,
        provider: runtime.provider,
        intraOpThreads: runtime.intraOpThreads,
        interOpThreads: runtime.interOpThreads,
        allowSpinning: runtime.allowSpinning,
        warmup: runtime.warmup,
        warmupRequests: runtime.warmupRequests,
        injectLatencyMs: runtime.injectLatencyMs,
        injectLatencyDist: runtime.injectLatencyDist,
        loadNice: runtime.loadNice,
      },
      runtime.workers,
      {
        onIdle: () => this.batcher?.pump(),
        onRestart: (reason) => {
          metrics.workerRestarts.inc(this.labels)
          log(`${model} v${version}: ${reason}; starting a replacement worker`)
        },
        onWorkersChanged: (n) => metrics.workers.set(this.labels, n),
        onBusy: (slot, activity, seconds) => metrics.workerBusyCell(model, this.labels.version, slot, activity).inc(seconds),
        log: (line) => log(`${model} v${version}: ${line}`),
      },
    )
  }

  async load(): Promise<void> {
    try {
      this.info = await this.pool.start()
      const onGpu = isGpuProvider(this.info.device)
      this.batching = resolveBatching(this.model, this.batchingFlags, this.info.inputs, this.info.outputs, onGpu ? GPU_BATCHING_DEFAULTS : undefined)
      if (onGpu && this.info.placement) gpuMetricsFor(this.serverMetrics.registry)?.recordVersion(this.model, this.labels.version, this.info.placement)
      this.outputOrder = this.info.outputs.map((o) => o.name)
    } catch (err) {
      await this.pool.close()
      this.serverMetrics.workers.set(this.labels, 0)
      throw err
    }
    const vm = this.metrics
    this.batcher = new Batcher(this.batching, this.pool, {
      onBatch: (s) => {
        vm.batches.inc()
        vm.inferences.inc(s.rows)
        vm.batchSize.observe(s.rows)
        if (s.padding) vm.padding.inc(s.padding)
        vm.computeLatency.observe(s.computeSeconds)
      },
      onQueued: (seconds) => vm.queueLatency.observe(seconds),
      onQueueChanged: (n) => vm.queued.set(n),
    })
  }

  /** Rows this request adds to a batch; every input must agree on dimension 0 when batching. */
  rowsOf(feeds: Feeds): number {
    if (!this.batching.enabled) return 1
    let rows: number | undefined
    for (const name in feeds) {
      const r = feeds[name]!.dims[0]
      if (r === undefined) throw badRequest(`input '${name}' is a scalar; batching needs a 0th (batch) dimension on every input`)
      if (rows !== undefined && r !== rows)
        throw badRequest(
          `inputs disagree on the 0th (batch) dimension (${rows} vs ${r} for '${name}'); batching merges requests along it, so every input needs the same size`,
        )
      rows = r
    }
    if (rows === undefined || rows < 1) throw badRequest('the request has an empty batch; expected at least one row')
    if (rows > this.batching.maxBatchSize)
      throw badRequest(
        `the request's batch of ${rows} rows is larger than max_batch_size ${this.batching.maxBatchSize}; split it, or start the server with a larger --max-batch-size`,
      )
    return rows
  }

  /** Throws 503 at once when the queue cannot take any request (checked before the body is read). */
  checkCapacity(): void {
    if (this.batcher.full) throw this.batcher.fullError()
  }

  async predict(feeds: Feeds, signature: string, trace?: RequestTrace): Promise<Record<string, Tensor>> {
    return (await this.batcher.submit(feeds, this.rowsOf(feeds), signature, undefined, trace)).outputs
  }

  /**
   * As predict, sharing JSON work with the worker (batcher.ts' JsonWork): `feeds` of a scanned body
   * carry only dtypes and shapes. `body` is the answer when the worker wrote it.
   */
  predictJson(feeds: Feeds, signature: string, json: JsonWork, trace?: RequestTrace): Promise<Answered> {
    return this.batcher.submit(feeds, this.rowsOf(feeds), signature, json, trace)
  }

  /**
   * Requests that resolved this version and have not finished (the HTTP front pins a version while it
   * reads the body, so the memory budget never evicts a model a request is about to run on).
   */
  pins = 0

  /** No request pinned, queued or running: the memory budget may evict it. */
  get idle(): boolean {
    return this.pins === 0 && this.metrics.inflight.value <= 0 && (this.batcher?.pending ?? 0) === 0
  }

  get workers(): number {
    return this.pool.live
  }

  /**
   * Every worker is running a batch and no request waits for one: a request that arrives now would wait
   * anyway, so the main thread may parse its body meanwhile (predict-handler's pipelining) without
   * delaying anything that could run.
   */
  get workersBusyQueueEmpty(): boolean {
    return this.pool.live > 0 && this.pool.acquire() === undefined && this.batcher.queuedRequests === 0
  }

  killWorker(mode: 'now' | 'next'): boolean {
    return this.pool.kill(mode)
  }

  /** Waits for queued and running batches (bounded by the caller), then stops the workers. */
  async unload(drainMs = Infinity): Promise<void> {
    if (this.batcher) {
      const drained = this.batcher.drain()
      if (Number.isFinite(drainMs)) {
        let t: NodeJS.Timeout | undefined
        await Promise.race([drained, new Promise<void>((r) => (t = setTimeout(r, drainMs)))])
        clearTimeout(t)
        this.batcher.abort(badRequestUnavailable())
      } else await drained
    }
    await this.pool.close()
    this.serverMetrics.workers.set(this.labels, 0)
    this.metrics.queued.set(0)
    gpuMetricsFor(this.serverMetrics.registry, false)?.removeVersion(this.model, this.labels.version)
  }
}

const badRequestUnavailable = () => new TfsoptError('E_UNAVAILABLE', 'the server is shutting down and the drain timeout expired before this request ran')
