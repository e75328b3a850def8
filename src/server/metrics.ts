/**
 * Prometheus metrics (prom-client), one registry per server so several servers can live in one
 * process (tests, the bench). Names are tfsopt_*; the bench scrapes them before and after each load
 * point. Per-request series carry {model, version}; the shared cache's size gauges carry none.
 */
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
const MV = ['model', 'version'] as const

export const MODEL_STATES = ['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END'] as const
export type ModelState = (typeof MODEL_STATES)[number]

export interface VersionMetrics {
  requestLatency: Histogram.Internal<string>
  queueLatency: Histogram.Internal<string>
  computeLatency: Histogram.Internal<string>
  batchSize: Histogram.Internal<string>
  padding: Counter.Internal
  batches: Counter.Internal
  inferences: Counter.Internal
  cacheHits: Counter.Internal
  cacheMisses: Counter.Internal
  inflight: Gauge.Internal<string>
  queued: Gauge.Internal<string>
  request(status: number): void
}

export class ServerMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({name: 'tfsopt_requests_total', help: 'Requests by model, version and HTTP status', labelNames: ['model', 'version', 'status'], registers: [this.registry]})
  readonly requestLatency = new Histogram({name: 'tfsopt_request_latency_seconds', help: 'Time from request arrival to response, seconds', labelNames: MV, buckets: LATENCY_BUCKETS, registers: [this.registry]})
  readonly queueLatency = new Histogram({name: 'tfsopt_queue_latency_seconds', help: 'Time a request waited in the batching queue, seconds', labelNames: MV, buckets: LATENCY_BUCKETS, registers: [this.registry]})
  readonly computeLatency = new Histogram({name: 'tfsopt_compute_latency_seconds', help: 'Inference time per batch inside the worker, seconds', labelNames: MV, buckets: LATENCY_BUCKETS, registers: [this.registry]})
  readonly batchSize = new Histogram({name: 'tfsopt_batch_size', help: 'Realised batch size in rows, before padding', labelNames: MV, buckets: BATCH_BUCKETS, registers: [this.registry]})
  readonly padding = new Counter({name: 'tfsopt_padding_size_total', help: 'Rows added to reach an allowed batch size', labelNames: MV, registers: [this.registry]})
  readonly batches = new Counter({name: 'tfsopt_batches_total', help: 'Batches run', labelNames: MV, registers: [this.registry]})
  readonly inferences = new Counter({name: 'tfsopt_inferences_total', help: 'Rows inferred (excluding padding); inferences/batches = mean batch size', labelNames: MV, registers: [this.registry]})
  readonly cacheHits = new Counter({name: 'tfsopt_cache_hits_total', help: 'Response cache hits', labelNames: MV, registers: [this.registry]})
  readonly cacheMisses = new Counter({name: 'tfsopt_cache_misses_total', help: 'Response cache misses', labelNames: MV, registers: [this.registry]})
  readonly cacheEvictions = new Counter({name: 'tfsopt_cache_evictions_total', help: 'Entries evicted by the LRU bounds', labelNames: MV, registers: [this.registry]})
  readonly cacheBytes = new Gauge({name: 'tfsopt_cache_bytes', help: 'Bytes held by the response cache', registers: [this.registry]})
  readonly cacheEntries = new Gauge({name: 'tfsopt_cache_entries', help: 'Entries in the response cache', registers: [this.registry]})
  readonly inflight = new Gauge({name: 'tfsopt_inflight_requests', help: 'Predict requests being handled', labelNames: MV, registers: [this.registry]})
  readonly queued = new Gauge({name: 'tfsopt_queued_requests', help: 'Requests waiting for a worker', labelNames: MV, registers: [this.registry]})
  readonly workers = new Gauge({name: 'tfsopt_workers', help: 'Live inference worker threads', labelNames: MV, registers: [this.registry]})
  readonly workerRestarts = new Counter({name: 'tfsopt_worker_restarts_total', help: 'Worker threads replaced after a crash', labelNames: MV, registers: [this.registry]})
  readonly modelState = new Gauge({name: 'tfsopt_model_state', help: '1 for the state a model version is in', labelNames: ['model', 'version', 'state'], registers: [this.registry]})

  constructor() {
    collectDefaultMetrics({register: this.registry})
  }

  private children = new Map<string, VersionMetrics>()

  /** Label-bound children, cached: prom-client's label lookup per observation is costly on the hot path. */
  forVersion(model: string, version: string): VersionMetrics {
    const key = `${model}\0${version}`
    let c = this.children.get(key)
    if (!c) {
      const l = {model, version}
      const byStatus = new Map<number, Counter.Internal>()
      c = {
        requestLatency: this.requestLatency.labels(l), queueLatency: this.queueLatency.labels(l), computeLatency: this.computeLatency.labels(l),
        batchSize: this.batchSize.labels(l), padding: this.padding.labels(l), batches: this.batches.labels(l), inferences: this.inferences.labels(l),
        cacheHits: this.cacheHits.labels(l), cacheMisses: this.cacheMisses.labels(l), inflight: this.inflight.labels(l), queued: this.queued.labels(l),
        request: (status) => {
          let ch = byStatus.get(status)
          if (!ch) byStatus.set(status, (ch = this.requests.labels({...l, status: String(status)})))
          ch.inc()
        },
      }
      this.children.set(key, c)
    }
    return c
  }

  setState(model: string, version: number, state: ModelState): void {
    for (const s of MODEL_STATES) this.modelState.set({model, version: String(version), state: s}, s === state ? 1 : 0)
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
