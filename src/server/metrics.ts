/**
 * Prometheus metrics (prom-client), one registry per server so several servers can live in one
 * process (tests, the bench). Names are tfsopt_*; the bench scrapes them before and after each load
 * point. Per-request series carry {model, version}; the shared cache's size gauges carry none.
 *
 * The hot path never calls prom-client: every prom-client call hashes and validates its label set,
 * which cost several µs per request. Per-request and per-batch series instead live in plain cells
 * (a number, or a bucket array) bound to one label set; counters and gauges are copied into prom-client
 * by its `collect` hook at scrape time, and the histograms are our own registry members that render
 * exactly as prom-client's do (same names, buckets, label order and values).
 */
import {performance} from 'node:perf_hooks'
import {Counter, Gauge, Registry, collectDefaultMetrics} from 'prom-client'

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
const MV = ['model', 'version'] as const

export const MODEL_STATES = ['START', 'LOADING', 'AVAILABLE', 'UNLOADING', 'END'] as const
export type ModelState = (typeof MODEL_STATES)[number]

type Labels = Record<string, string>

/** A counter bound to one label set; prom-client sees the increments at the next scrape. */
export class CounterCell {
  pending = 0
  constructor(readonly labels: Labels) {}
  inc(n = 1): void {
    this.pending += n
  }
}

/** A gauge bound to one label set; `touched` keeps a never-set series out of the output, as prom-client does. */
export class GaugeCell {
  value = 0
  touched = false
  constructor(readonly labels: Labels) {}
  set(v: number): void {
    this.value = v
    this.touched = true
  }
  inc(): void {
    this.value++
    this.touched = true
  }
  dec(): void {
    this.value--
    this.touched = true
  }
}

export class HistogramCell {
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(
    readonly labels: Labels,
    private readonly bounds: number[],
  ) {
    this.counts = new Float64Array(bounds.length)
  }
  observe(v: number): void {
    if (!Number.isFinite(v)) return
    const b = this.bounds
    this.sum += v
    this.count++
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++
        return
      }
    }
  }
}

interface PromValue {
  value: number
  labels: Labels
  sharedLabels?: Labels
  metricName: string
}

/**
 * A labelled histogram that plugs into a prom-client Registry (name, help, type, get, reset) and renders
 * the way prom-client's Histogram does: per label set, cumulative `_bucket{le=...}` lines, `le="+Inf"`,
 * `_sum`, `_count`, with `le` first.
 */
export class FastHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private cells = new Map<string, HistogramCell>()
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never)
  }

  labels(labels: Labels): HistogramCell {
    const key = Object.values(labels).join('\0')
    let c = this.cells.get(key)
    if (!c) this.cells.set(key, (c = new HistogramCell(labels, this.bounds)))
    return c
  }

  getForPromString(): {name: string; help: string; type: string; aggregator: string; values: PromValue[]} {
    const values: PromValue[] = []
    const bucket = `${this.name}_bucket`
    for (const c of this.cells.values()) {
      if (c.count === 0) continue // as in prom-client, a series appears with its first observation
      let acc = 0
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i]!
        values.push({value: acc, labels: {le: this.bounds[i] as unknown as string}, sharedLabels: c.labels, metricName: bucket})
      }
      values.push({value: c.count, labels: {le: '+Inf'}, sharedLabels: c.labels, metricName: bucket})
      values.push({value: c.sum, labels: {}, sharedLabels: c.labels, metricName: `${this.name}_sum`})
      values.push({value: c.count, labels: {}, sharedLabels: c.labels, metricName: `${this.name}_count`})
    }
    return {name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values}
  }

  /** The JSON form (Registry.getMetricsAsJSON): labels merged, as prom-client's get() gives them. */
  async get(): Promise<ReturnType<FastHistogram['getForPromString']>> {
    const d = this.getForPromString()
    d.values = d.values.map(({sharedLabels, labels, ...rest}) => ({...rest, labels: {...labels, ...sharedLabels}}))
    return d
  }

  reset(): void {
    for (const c of this.cells.values()) {
      c.counts.fill(0)
      c.sum = 0
      c.count = 0
    }
  }
}

/** What a worker slot was busy with; `loop` is its whole event loop's busy time and includes the others. */
export type WorkerActivity = 'inference' | 'decode' | 'encode' | 'loop'

export interface VersionMetrics {
  requestLatency: HistogramCell
  queueLatency: HistogramCell
  computeLatency: HistogramCell
  batchSize: HistogramCell
  padding: CounterCell
  batches: CounterCell
  inferences: CounterCell
  cacheHits: CounterCell
  cacheMisses: CounterCell
  inflight: GaugeCell
  queued: GaugeCell
  /** Main-thread codec seconds (JSON/binary decode of request bodies, encode of answers). */
  decodeSeconds: CounterCell
  encodeSeconds: CounterCell
  request(status: number): void
}

export class ServerMetrics {
  readonly registry = new Registry()
  private counterCells = new Map<string, CounterCell[]>()
  private gaugeCells = new Map<string, GaugeCell[]>()

  private counter(name: string, help: string, labelNames: readonly string[]): Counter {
    const cells: CounterCell[] = []
    this.counterCells.set(name, cells)
    return new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        for (const c of cells) {
          if (c.pending) {
            this.inc(c.labels, c.pending)
            c.pending = 0
          }
        }
      },
    })
  }

  private gauge(name: string, help: string, labelNames: readonly string[]): Gauge {
    const cells: GaugeCell[] = []
    this.gaugeCells.set(name, cells)
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        for (const c of cells) if (c.touched) this.set(c.labels, c.value)
      },
    })
  }

  private counterCell(metric: Counter, labels: Labels): CounterCell {
    const c = new CounterCell(labels)
    this.counterCells.get((metric as unknown as {name: string}).name)!.push(c)
    return c
  }

  private gaugeCell(metric: Gauge, labels: Labels): GaugeCell {
    const c = new GaugeCell(labels)
    this.gaugeCells.get((metric as unknown as {name: string}).name)!.push(c)
    return c
  }

  readonly requests = this.counter('tfsopt_requests_total', 'Requests by model, version and HTTP status', ['model', 'version', 'status'])
  readonly requestLatency = new FastHistogram(
    'tfsopt_request_latency_seconds',
    'Time from request arrival to response, seconds',
    LATENCY_BUCKETS,
    this.registry,
  )
  readonly queueLatency = new FastHistogram(
    'tfsopt_queue_latency_seconds',
    'Time a request waited in the batching queue, seconds',
    LATENCY_BUCKETS,
    this.registry,
  )
  readonly computeLatency = new FastHistogram(
    'tfsopt_compute_latency_seconds',
    'Inference time per batch inside the worker, seconds',
    LATENCY_BUCKETS,
    this.registry,
  )
  readonly batchSize = new FastHistogram('tfsopt_batch_size', 'Realised batch size in rows, before padding', BATCH_BUCKETS, this.registry)
  readonly padding = this.counter('tfsopt_padding_size_total', 'Rows added to reach an allowed batch size', MV)
  readonly batches = this.counter('tfsopt_batches_total', 'Batches run', MV)
  readonly inferences = this.counter('tfsopt_inferences_total', 'Rows inferred (excluding padding); inferences/batches = mean batch size', MV)
  readonly cacheHits = this.counter('tfsopt_cache_hits_total', 'Response cache hits', MV)
  readonly cacheMisses = this.counter('tfsopt_cache_misses_total', 'Response cache misses', MV)
  readonly cacheEvictions = new Counter({
    name: 'tfsopt_cache_evictions_total',
    help: 'Entries evicted by the LRU bounds',
    labelNames: MV,
    registers: [this.registry],
  })
  readonly cacheBytes = new Gauge({name: 'tfsopt_cache_bytes', help: 'Bytes held by the response cache', registers: [this.registry]})
  readonly cacheEntries = new Gauge({name: 'tfsopt_cache_entries', help: 'Entries in the response cache', registers: [this.registry]})
  readonly inflight = this.gauge('tfsopt_inflight_requests', 'Predict requests being handled', MV)
  readonly queued = this.gauge('tfsopt_queued_requests', 'Requests waiting for a worker', MV)
  readonly workers = new Gauge({name: 'tfsopt_workers', help: 'Live inference worker threads', labelNames: MV, registers: [this.registry]})
  readonly workerRestarts = new Counter({
    name: 'tfsopt_worker_restarts_total',
    help: 'Worker threads replaced after a crash',
    labelNames: MV,
    registers: [this.registry],
  })
  readonly modelState = new Gauge({
    name: 'tfsopt_model_state',
    help: '1 for the state a model version is in',
    labelNames: ['model', 'version', 'state'],
    registers: [this.registry],
  })

  /** --model-memory-budget: what each loaded version was measured to hold, loads, evictions, cold-load time. */
  readonly modelMemory = new Gauge({
    name: 'tfsopt_model_memory_bytes',
    help: 'Memory a loaded model version was measured to hold (process RSS before/after its workers loaded, at least its files x workers); 0 once unloaded',
    labelNames: MV,
    registers: [this.registry],
  })
  readonly modelMemoryBudget = new Gauge({
    name: 'tfsopt_model_memory_budget_bytes',
    help: 'The --model-memory-budget the loaded models must fit in (absent without one)',
    registers: [this.registry],
  })
  readonly modelMemoryUsed = new Gauge({
    name: 'tfsopt_model_memory_used_bytes',
    help: 'Bytes charged against the model memory budget: the loaded versions plus the loads under way',
    registers: [this.registry],
  })
  readonly modelLoads = new Counter({
    name: 'tfsopt_model_loads_total',
    help: 'Model loads (start-up, on-demand, new versions, repository API), by outcome (ok|error|too_large)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  })
  readonly modelEvictions = new Counter({
    name: 'tfsopt_model_evictions_total',
    help: 'Models unloaded to make room under the memory budget (least recently used, idle)',
    labelNames: ['model'],
    registers: [this.registry],
  })
  readonly modelLoadSeconds = new FastHistogram(
    'tfsopt_model_load_seconds',
    'Time to load one model version (workers started, sessions opened, warm-up run), seconds',
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    this.registry,
  )
  readonly coldStartSeconds = new FastHistogram(
    'tfsopt_cold_start_wait_seconds',
    'Time a request waited for its model to be loaded on demand (requests that found it loaded are not counted), seconds',
    LATENCY_BUCKETS,
    this.registry,
  )

  /**
   * Busy time per thread, for calibrating per-station service demands (docs/QUEUEING.md): the main
   * thread's event-loop active time (performance.eventLoopUtilization, counted from this server's
   * start), and per worker slot the seconds it spent inside session.run and inside the JSON codec.
   */
  readonly mainThreadBusy = new Counter({
    name: 'tfsopt_main_thread_busy_seconds_total',
    help: 'Seconds the main (HTTP) thread event loop was busy since the server started (event-loop utilisation x wall time)',
    registers: [this.registry],
    collect: (() => {
      let last = performance.eventLoopUtilization().active
      return function (this: Counter) {
        const now = performance.eventLoopUtilization().active
        this.inc((now - last) / 1000)
        last = now
      }
    })(),
  })
  readonly mainThreadCodec = this.counter(
    'tfsopt_main_thread_codec_seconds_total',
    'Seconds the main thread spent decoding request bodies and encoding responses, by direction (decode|encode)',
    ['model', 'version', 'direction'],
  )
  readonly workerBusy = this.counter(
    'tfsopt_worker_busy_seconds_total',
    "Seconds each worker thread was busy, by activity: inference (session.run per batch), decode and encode (JSON codec); loop is the worker event loop's whole busy time (all of those plus message (de)serialisation), not to be added to them",
    ['model', 'version', 'worker', 'activity'],
  )

  /** Request-body bytes held in flight and budget refusals (body-budget.ts); plain numbers, read at scrape. */
  inflightBodyBytesNow = 0
  bodyBudgetRefusalsNow = 0
  readonly inflightBodyBytes = this.readGauge(
    'tfsopt_inflight_body_bytes',
    'Bytes of request bodies held in flight, against --max-inflight-body-bytes',
    () => this.inflightBodyBytesNow,
  )
  /** The recycled body and answer buffers (body-pool.ts), read at scrape. */
  bodyPool: {idleBytes: number} | undefined
  readonly bodyPoolIdleBytes = this.readGauge(
    'tfsopt_body_pool_idle_bytes',
    'Bytes of recycled buffers (request bodies and JSON answers written on the main thread) held idle for the next large ones (dropped after 10 s unused)',
    () => this.bodyPool?.idleBytes ?? 0,
  )
  readonly bodyBudgetRefusals = new Counter({
    name: 'tfsopt_body_budget_refusals_total',
    help: 'Requests refused with 503 because the in-flight request-body budget was full',
    registers: [this.registry],
    collect: (() => {
      const self = this
      let seen = 0
      return function (this: Counter) {
        if (self.bodyBudgetRefusalsNow > seen) this.inc(self.bodyBudgetRefusalsNow - seen)
        seen = self.bodyBudgetRefusalsNow
      }
    })(),
  })

  constructor() {
    collectDefaultMetrics({register: this.registry})
  }

  /** A gauge set from `read` at each scrape (a plain number the server keeps; nothing to update per request). */
  private readGauge(name: string, help: string, read: () => number): Gauge {
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(read())
      },
    })
  }

  private busyCells = new Map<string, CounterCell>()

  /** The busy-seconds cell of one worker slot (a replaced worker takes over its slot) and activity. */
  workerBusyCell(model: string, version: string, worker: number, activity: WorkerActivity): CounterCell {
    const key = `${model}\0${version}\0${worker}\0${activity}`
    let c = this.busyCells.get(key)
    if (!c) this.busyCells.set(key, (c = this.counterCell(this.workerBusy, {model, version, worker: String(worker), activity})))
    return c
  }

  private children = new Map<string, VersionMetrics>()

  /** Label-bound cells, created once per {model, version}; nothing on the hot path touches prom-client. */
  forVersion(model: string, version: string): VersionMetrics {
    const key = `${model}\0${version}`
    let c = this.children.get(key)
    if (!c) {
      const l = {model, version}
      const byStatus = new Map<number, CounterCell>()
      c = {
        requestLatency: this.requestLatency.labels(l),
        queueLatency: this.queueLatency.labels(l),
        computeLatency: this.computeLatency.labels(l),
        batchSize: this.batchSize.labels(l),
        padding: this.counterCell(this.padding, l),
        batches: this.counterCell(this.batches, l),
        inferences: this.counterCell(this.inferences, l),
        cacheHits: this.counterCell(this.cacheHits, l),
        cacheMisses: this.counterCell(this.cacheMisses, l),
        inflight: this.gaugeCell(this.inflight, l),
        queued: this.gaugeCell(this.queued, l),
        decodeSeconds: this.counterCell(this.mainThreadCodec, {model, version, direction: 'decode'}),
        encodeSeconds: this.counterCell(this.mainThreadCodec, {model, version, direction: 'encode'}),
        request: (status) => {
          let ch = byStatus.get(status)
          if (!ch) byStatus.set(status, (ch = this.counterCell(this.requests, {model, version, status: String(status)})))
          ch.pending++
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
