/**
 * The bench engine. Like autocannon's run.js it only measures and emits events — 'plan', 'server',
 * 'point-start', 'window', 'point', 'warning', 'done' — and progress bars and tables subscribe to them,
 * so measuring never depends on how results are shown.
 *
 * Order: repeat (outer, so K repeats interleave and slow drift hits every point alike) → model (A/B/A/B
 * with --compare-model) → server configuration (one `tfsopt serve` child each) → client variant →
 * load levels (grid, or adaptive in the first repeat; later repeats re-measure what it chose).
 */
import {meanInterval} from '../stats/t-interval.js'
import {EventEmitter} from 'node:events'
import {basename} from 'node:path'
import {TfsoptError, errorMessage} from '../errors.js'
import {describeMachine} from '../results/machine.js'
import {BodySource, loadSamples, type Sample} from './body-source.js'
import {ClosedLoop} from './closed-loop.js'
import {OpenLoop} from './open-loop.js'
import {measurePoint, type BenchWindow, type PointMeasurement} from './measure-point.js'
import {clientVariants, pointId, serverGrid, type BenchOptions} from './options.js'
import {startServeProcess, type ServerHandle} from './server-process.js'
import {addedLatencyProbe, startCluster, type ClusterHandle} from './cluster-process.js'
import {clusterResult} from './cluster-point.js'
import {fetchSignature, probePredict, waitAvailable} from './target.js'
import {GrpcLoad} from './grpc-load.js'
import {isGrpc, type Protocol} from './protocol-bodies.js'
import {requestsFor, type ProtocolRequests} from './protocol-requests.js'
import {probeProtocol} from './probe-protocol.js'
import {tfsRestRequests} from './http-requests.js'
import type {SignatureInput} from './signature.js'
import type {LoadGenerator} from './window.js'
import {AdaptiveSearch, type LoadResult} from './adaptive.js'
import {predictedKnee} from './models.js'
import {stationForecastAt, stationKnee} from './station-fits.js'
import {GENERATOR_CPU_WARN} from './cpu.js'
import {finalizeRun} from './finalize.js'
import {BENCH_SCHEMA, type BenchRun, type BenchSettings, type ClientConfig, type PointResult, type ServerConfig} from '../results/bench-run.js'
import {mergeHistograms, summarize, type Histogram} from './histogram.js'
import {DEFAULT_MODEL, DEFAULT_MODEL_NAME, TFSOPT_VERSION} from '../fixtures.js'

export interface EngineEvents {
  plan: {points: number; perPointS: number; servers: number}
  server: {phase: 'starting' | 'ready' | 'stopped' | 'failed'; config: ServerConfig; model: string; url?: string; pid?: number; message?: string}
  'point-start': {id: string; index: number; config: PointResult['config']; repeat: number}
  window: {id: string; window: BenchWindow}
  point: {point: PointResult; index: number}
  warning: string
}

/** One measurement of a point (a repeat), with its histograms kept for merging. */
interface Measured {
  config: PointResult['config']
  m: PointMeasurement
  hists: Histogram[]
  serverWorkers?: number
  cluster?: ClusterHandle
  /** The balancer hop's added latency measured during this point's load (cluster points). */
  addedAtLoadMs?: number
}

function isCluster(h: ServerHandle | undefined): h is ClusterHandle {
  return h !== undefined && 'replicas' in h
}

const LATE_WARN = 0.01

type ClientVariant = ReturnType<typeof clientVariants>[number]

interface SweepPlan {
  builtIn: boolean
  models: string[]
  servers: ServerConfig[]
  variants: ClientVariant[]
}

/** One model served with one server configuration, in one repeat. */
interface ServerSession {
  modelPath: string
  modelLabel: string
  server: ServerConfig
  /** The name requests use: the server's own once it is ready. */
  modelName: string
  rep: number
  search: AdaptiveSearch
  handle?: ServerHandle
}

function clientAt(v: ClientVariant, load: number): ClientConfig {
  const protocol = v.protocol ? {protocol: v.protocol} : {}
  return v.mode === 'closed'
    ? {mode: 'closed', concurrency: load, clientBatch: v.clientBatch, repeatRatio: v.repeatRatio, ...protocol}
    : {mode: 'open', rate: load, arrival: v.arrival, clientBatch: v.clientBatch, repeatRatio: v.repeatRatio, ...protocol}
}

export class BenchEngine extends EventEmitter {
  private readonly measured = new Map<string, Measured[]>()
  private readonly order: string[] = []
  private readonly warnings: string[] = []
  private interrupted = false
  /** Set by --fail-fast at the first failed point: the sweep stops, and what was measured is still returned. */
  stoppedBy?: TfsoptError
  /** Fresh request bodies are numbered across the whole run, so no point re-sends another point's. */
  private freshNext = 0
  private done = 0
  /** Where requests go: --url, or the built-in server now running. */
  private targetUrl: string
  /** Where gRPC requests go: --grpc-target, or the built-in server's gRPC port. */
  private grpcTarget?: string
  private firstStart = true
  private readonly samplesByModel = new Map<string, {samples: Sample[]; signature: SignatureInput[]}>()
  /** (model, protocol) pairs whose probe request succeeded on the current server. */
  private probed = new Set<string>()
  /** Adaptive choices per (model, server, variant), replayed in later repeats. */
  private readonly chosen = new Map<string, number[]>()

  constructor(
    private readonly o: BenchOptions,
    private readonly signal?: AbortSignal,
  ) {
    super()
    this.targetUrl = o.url ?? ''
    this.grpcTarget = o.grpcTarget
  }

  private warn(msg: string): void {
    if (!this.warnings.includes(msg)) {
      this.warnings.push(msg)
      this.emit('warning', msg)
    }
  }

  async run(): Promise<BenchRun> {
    const startedAt = new Date().toISOString()
    const plan = this.planSweep()
    for (let rep = 0; rep < this.o.repeat && !this.stopped(); rep++)
      for (const modelPath of plan.models) if (!this.stopped()) await this.measureModel(plan, modelPath, rep)
    return this.finish(plan, startedAt)
  }

  /** Ctrl-C or --fail-fast: no further server, variant or point is started. */
  private stopped(): boolean {
    return Boolean(this.signal?.aborted || this.stoppedBy)
  }

  /** What the sweep covers, announced as the 'plan' event. */
  private planSweep(): SweepPlan {
    const o = this.o
    const builtIn = !o.url
    const models = builtIn ? [o.model ?? DEFAULT_MODEL, ...(o.compareModel ? [o.compareModel] : [])] : [o.modelName]
    if (!builtIn) this.warnServerSettingsIgnored()
    const servers: ServerConfig[] = builtIn ? serverGrid(o) : [{}]
    const variants = clientVariants(o)
    const perPointS = o.warmupS + o.windowS * o.minWindows
    const gridPoints = o.repeat * models.length * servers.length * variants.reduce((s, v) => s + v.loads.length, 0)
    this.emit('plan', {points: gridPoints, perPointS, servers: o.repeat * models.length * servers.length})
    return {builtIn, models, servers, variants}
  }

  /** Even one value cannot be applied: bench does not control an external server. Say which were given. */
  private warnServerSettingsIgnored(): void {
    const o = this.o
    const flagOf: Record<keyof BenchOptions['server'], string> = {
      workers: '--workers',
      intraOpThreads: '--intra-op-threads',
      maxBatchSize: '--max-batch-size',
      batchTimeoutMicros: '--batch-timeout-micros',
      cacheSize: '--cache-size',
    }
    const given = (Object.keys(flagOf) as Array<keyof BenchOptions['server']>).filter((k) => o.server[k].length).map((k) => flagOf[k])
    if (o.serverFlags.length) given.push('--server-flags')
    if (given.length)
      this.warn(
        `server-side settings (${given.join(', ')}) cannot be applied to an external --url target: they were ignored, and every point measures the server as it is configured`,
      )
  }

  /**
   * One model in one repeat. Adaptive: one search per model, carried from group to group — across client
   * variants AND server configurations — so later groups start from the best level so far and walk to its neighbours.
   */
  private async measureModel(plan: SweepPlan, modelPath: string, rep: number): Promise<void> {
    const o = this.o
    const search = new AdaptiveSearch({sloP99Ms: o.sloP99Ms})
    const modelLabel = plan.builtIn ? (modelPath === DEFAULT_MODEL ? DEFAULT_MODEL_NAME : basename(modelPath).replace(/\.[^.]+$/, '')) : o.modelName
    for (const server of plan.servers) {
      if (this.stopped()) return
      const session: ServerSession = {modelPath, modelLabel, server, modelName: o.modelName, rep, search}
      if (plan.builtIn) {
        try {
          await this.startServer(session)
        } catch (err) {
          // The very first server must start: a broken model or install is a clear error, exit 1.
          if (this.firstStart || o.failFast) throw err
          this.emit('server', {phase: 'failed', config: server, model: modelLabel, message: errorMessage(err)})
          this.warn(`server ${JSON.stringify(server)} failed to start: ${errorMessage(err)}`)
          for (const v of plan.variants)
            for (const load of v.loads) this.record(this.failedPoint(modelLabel, server, v, load, `server failed to start: ${errorMessage(err)}`))
          continue
        }
      } else await waitAvailable(this.targetUrl, session.modelName, 10_000)
      this.firstStart = false
      try {
        const samples = await this.samplesFor(session)
        for (const v of plan.variants) await this.measureVariant(session, samples, v)
      } finally {
        if (session.handle) {
          await session.handle.stop()
          this.emit('server', {phase: 'stopped', config: server, model: modelLabel})
        }
      }
    }
  }

  /** Starts (or restarts) the built-in server of a session; later points go to its URL. */
  private async startServer(session: ServerSession): Promise<void> {
    const o = this.o
    const {server, modelLabel} = session
    this.emit('server', {phase: 'starting', config: server, model: modelLabel})
    const modelName = o.model === undefined && !o.compareModel ? DEFAULT_MODEL_NAME : undefined
    const {replicas, lb, balancer, ...perReplica} = server
    const h: ServerHandle =
      replicas !== undefined
        ? await startCluster({model: session.modelPath, modelName, config: perReplica, replicas, policy: lb ?? 'round-robin', balancer: balancer ?? 'nginx'})
        : await startServeProcess({model: session.modelPath, modelName, config: server, grpc: o.protocol.some(isGrpc)})
    this.emit('server', {phase: 'ready', config: server, model: modelLabel, url: h.url, pid: h.pid})
    if (!session.handle) session.modelName = h.ready.models?.[0]?.name ?? session.modelName
    session.handle = h
    this.targetUrl = h.url
    this.grpcTarget = h.ready.grpc
    this.probed.clear()
  }

  /** Request bodies for a model: loaded (and probed with one request) the first time it is served. */
  private async samplesFor(session: ServerSession): Promise<Sample[]> {
    let got = this.samplesByModel.get(session.modelPath)
    if (!got) {
      const signature = await fetchSignature(this.targetUrl, session.modelName)
      got = {samples: loadSamples(this.o.data, signature).samples, signature}
      this.samplesByModel.set(session.modelPath, got)
      await probePredict(this.targetUrl, session.modelName, new BodySource(got.samples, {clientBatch: 1, repeatRatio: 0}).next())
    }
    return got.samples
  }

  /** The requests of one point in its protocol; the first use of a protocol on a server is probed first. */
  private async requestsAt(session: ServerSession, protocol: Protocol, bodies: BodySource, server: ServerConfig): Promise<ProtocolRequests> {
    if (protocol === 'tfs-rest') return {kind: 'http', http: tfsRestRequests(session.modelName, bodies)}
    const signature = this.samplesByModel.get(session.modelPath)?.signature ?? []
    const reqs = requestsFor(protocol, session.modelName, bodies, signature)
    const key = `${session.modelName}\0${protocol}`
    if (!this.probed.has(key)) {
      await probeProtocol(reqs, {url: this.targetUrl, grpcTarget: this.grpcTarget}, protocol)
      this.probed.add(key)
    }
    if (reqs.pool && (server.cacheSize ?? 0) > 0)
      this.warn(
        `--protocol ${protocol} sends a pool of ${reqs.pool} requests converted once, in turn: with the server's cache on, every request after the first ${reqs.pool} repeats one, so cache hits exceed --repeat-ratio`,
      )
    return reqs
  }

  private generator(reqs: ProtocolRequests, v: ClientVariant, load: number, seed: number): LoadGenerator {
    const o = this.o
    const url = this.targetUrl
    if (reqs.kind === 'grpc') {
      const common = {target: this.grpcTarget ?? '', requests: reqs.grpc, method: reqs.method, timeoutS: o.timeoutS}
      return v.mode === 'closed'
        ? new GrpcLoad({...common, mode: 'closed', concurrency: load})
        : new GrpcLoad({...common, mode: 'open', rate: load, arrival: v.arrival ?? 'poisson', seed})
    }
    return v.mode === 'closed'
      ? new ClosedLoop({url, concurrency: load, requests: reqs.http, timeoutS: o.timeoutS})
      : new OpenLoop({url, rate: load, arrival: v.arrival ?? 'poisson', requests: reqs.http, seed, timeoutS: o.timeoutS})
  }

  /** The load levels of one client variant: searched adaptively in the first repeat (later ones replay its choice), else the grid. */
  private async measureVariant(session: ServerSession, samples: Sample[], v: ClientVariant): Promise<void> {
    const key = JSON.stringify([session.modelLabel, session.server, v])
    if (this.o.search === 'adaptive' && session.rep === 0) {
      const loads: number[] = []
      const results: LoadResult[] = []
      const points: PointResult[] = []
      const cores = describeMachine().cores
      const workers = session.server.workers ?? 1
      // The knee to refine toward: the station model's once a lone client and a loaded point are in, else the USL/bounds.
      const knee = (ms: LoadResult[]) => stationKnee(points, v.loads, cores, workers) ?? predictedKnee(ms)
      // And its forecast at a level: a refinement it forecasts no gain at is not measured.
      const forecastX = (n: number) => stationForecastAt(points, n, cores, workers)?.throughput
      for (;;) {
        const next = session.search.next(v.loads, results, v.mode === 'closed' ? knee : undefined, v.mode === 'closed' ? forecastX : undefined)
        if (next === undefined || this.signal?.aborted) break
        loads.push(next)
        const forecast = v.mode === 'closed' ? stationForecastAt(points, next, cores, workers) : undefined
        const p = await this.measureLoad(session, samples, v, next)
        if (!p) break
        // What the search expected before measuring it, kept beside the measurement.
        if (forecast) {
          p.searchForecast = forecast
          this.searchForecasts.set(p.id, forecast)
        }
        points.push(p)
        results.push({load: next, throughput: p.throughput, p99Ms: p.latency.p99Ms, meanMs: p.latency.meanMs, clean: !p.failed && p.errors.total === 0})
      }
      this.chosen.set(key, loads)
      session.search.endGroup(v.loads, results, v.mode === 'closed')
    } else {
      for (const load of this.chosen.get(key) ?? v.loads) if (!(await this.measureLoad(session, samples, v, load))) break
    }
  }

  /** One point: restart a dead server, warm up, measure windows until stable. Undefined: stop this variant. */
  private async measureLoad(session: ServerSession, samples: Sample[], v: ClientVariant, load: number): Promise<PointResult | undefined> {
    const o = this.o
    const {server, modelLabel, rep} = session
    if (this.stopped()) return undefined
    if (session.handle && !session.handle.alive()) {
      this.warn(`the server (${JSON.stringify(server)}) died; restarting it for the next point`)
      try {
        await this.startServer(session)
      } catch (err) {
        return this.record(this.failedPoint(modelLabel, server, v, load, `server could not be restarted: ${errorMessage(err)}`))
      }
    }
    const client = clientAt(v, load)
    const config = {server, client, model: modelLabel}
    const id = pointId({model: modelLabel, server, client})
    this.emit('point-start', {id, index: this.done, config, repeat: rep})
    const bodies = new BodySource(samples, {clientBatch: v.clientBatch, repeatRatio: v.repeatRatio, seed: o.seed + rep, freshStart: this.freshNext})
    const url = this.targetUrl
    const gen = this.generator(await this.requestsAt(session, (v.protocol ?? 'tfs-rest') as Protocol, bodies, server), v, load, o.seed + rep)
    const hists: Histogram[] = []
    const h = session.handle
    const probe = isCluster(h)
      ? addedLatencyProbe(
          h.url,
          h.replicas.map((r) => r.url),
        )
      : undefined
    const m = await measurePoint(gen, {
      warmupS: o.warmupS,
      windowS: o.windowS,
      minWindows: o.minWindows,
      maxWindows: o.maxWindows,
      stabilityPct: o.stabilityPct,
      stabilityOn: o.stabilityOn,
      minWindowRequests: o.minWindowRequests,
      signal: this.signal,
      serverAlive: h ? () => h.alive() : undefined,
      serverPid: h?.pid,
      metricsBase: url,
      replicaBases: isCluster(h) ? h.replicas.map((r) => r.url) : undefined,
      onWindow: (w) => this.emit('window', {id, window: w}),
      onHistogram: (hist) => hists.push(hist),
    })
    const addedAtLoadMs = await probe?.stop()
    this.freshNext = bodies.freshEnd
    if (m.aborted) this.interrupted = true
    if (m.aborted && m.windows.length === 0) return undefined
    const workers = Number(h?.ready.models?.[0]?.workers ?? server.workers ?? 1)
    const p = this.record({config, m, hists, serverWorkers: workers, cluster: isCluster(h) ? h : undefined, addedAtLoadMs}, id)
    if (m.failed && o.failFast) {
      // Stop like Ctrl-C does (the caller still writes the points so far), then fail with exit 1.
      this.stoppedBy = new TfsoptError('E_RUNTIME', `point ${id} failed: ${m.failed} (--fail-fast: the sweep stopped there)`)
      return undefined
    }
    return p
  }

  /** The BenchRun: merged points, then the analysis (fits, predictions, Pareto, recommendation, warnings). */
  private finish(plan: SweepPlan, startedAt: string): BenchRun {
    const o = this.o
    if (this.signal?.aborted) this.interrupted = true
    const points = this.order.map((id) => this.mergePoint(id))
    const machine = describeMachine()
    const run: BenchRun = {
      schema: BENCH_SCHEMA,
      tfsoptVersion: TFSOPT_VERSION,
      startedAt,
      finishedAt: new Date().toISOString(),
      model: {
        name: plan.builtIn ? (o.model ? basename(o.model).replace(/\.[^.]+$/, '') : DEFAULT_MODEL_NAME) : o.modelName,
        path: plan.builtIn ? (o.model ?? DEFAULT_MODEL) : undefined,
      },
      target: {url: o.url ?? 'built-in', builtIn: plan.builtIn},
      machine,
      settings: settingsOf(o),
      points,
      interrupted: this.interrupted,
      ...(this.stoppedBy ? {stoppedBy: this.stoppedBy.message} : {}),
      warnings: this.warnings,
    }
    finalizeRun(run, {
      sloP99Ms: o.sloP99Ms,
      modelArg: o.model ?? (plan.builtIn ? '' : o.modelName),
      cores: machine.cores,
      workersOf: (p) => this.workersOf(p.id),
    })
    for (const w of run.warnings ?? []) if (!this.warnings.includes(w)) this.emit('warning', w)
    this.emit('done', run)
    return run
  }

  private workersOf(id: string): number {
    return this.measured.get(id)?.[0]?.serverWorkers ?? 1
  }

  private failedPoint(model: string, server: ServerConfig, v: ClientVariant, load: number, why: string): Measured {
    const client = clientAt(v, load)
    const empty = summarize(mergeHistograms([]))
    return {
      config: {server, client, model},
      hists: [],
      m: {
        windows: [],
        verdict: {stable: false, throughputSpreadPct: NaN, p99SpreadPct: NaN, judged: 0},
        latency: empty,
        throughput: 0,
        inferencesPerSec: 0,
        errors: {non2xx: 0, timeouts: 0, connection: 0, total: 0},
        sent: 0,
        lateSends: 0,
        clientCpuCores: 0,
        failed: why,
        aborted: false,
        measuredS: 0,
        meanInflight: 0,
      },
    }
  }

  private record(x: Measured, id = pointId({model: x.config.model!, server: x.config.server, client: x.config.client})): PointResult {
    if (!this.measured.has(id)) {
      this.measured.set(id, [])
      this.order.push(id)
    }
    this.measured.get(id)!.push(x)
    const m = x.m
    if (m.clientCpuCores >= GENERATOR_CPU_WARN)
      this.warn(
        `the load generator used ${m.clientCpuCores.toFixed(2)} cores at ${id}: on a ${describeMachine().cores}-core machine it competes with the server, so that point understates the server's capacity`,
      )
    if (m.sent > 0 && m.lateSends / m.sent > LATE_WARN)
      this.warn(
        `${((100 * m.lateSends) / m.sent).toFixed(1)}% of scheduled requests were sent late at ${id}: the generator could not keep up (latency still counts from the intended time)`,
      )
    const p = this.mergePoint(id)
    this.done++
    this.emit('point', {point: p, index: this.done})
    return p
  }

  /** Folds the K repeats of a point into one PointResult: windows concatenated, histograms merged. */
  /** Adaptive search: the forecast each chosen point had before it was measured (point id → forecast). */
  private searchForecasts = new Map<string, {throughput: number; meanMs: number}>()

  private mergePoint(id: string): PointResult {
    const reps = this.measured.get(id)!
    const ok = reps.filter((r) => !r.m.failed || r.m.windows.length)
    const windows = ok.flatMap((r) => r.m.windows).map((w, index) => ({...w, index}))
    const first = reps[0]!
    const n = ok.length || 1
    const mean = (f: (m: PointMeasurement) => number) => ok.reduce((s, r) => s + f(r.m), 0) / n
    const sum = (f: (m: PointMeasurement) => number) => reps.reduce((s, r) => s + f(r.m), 0)
    const errors = {
      non2xx: sum((m) => m.errors.non2xx),
      timeouts: sum((m) => m.errors.timeouts),
      connection: sum((m) => m.errors.connection),
      total: sum((m) => m.errors.total),
    }
    const failed = reps.find((r) => r.m.failed)?.m.failed
    const tp = windows.map((w) => w.throughput)
    const p99 = windows.map((w) => w.p99Ms).filter(Number.isFinite)
    const lastServer = [...ok].reverse().find((r) => r.m.server)?.m.server
    // The windows the summary covers (the judged ones of a stable repeat, all of an unstable one): their
    // spread gives the point's 95% intervals (batch means; src/stats/t-interval.ts).
    const summarised = ok.flatMap((r) => (r.m.verdict.stable ? r.m.windows.slice(-this.o.minWindows) : r.m.windows))
    const ciX = meanInterval(summarised.map((w) => w.throughput))
    const ciR = meanInterval(summarised.filter((w) => w.requests > 0).map((w) => w.meanMs))
    const latency = reps.length === 1 ? first.m.latency : summarize(mergeHistograms(ok.flatMap((r) => r.hists)))
    const throughput = mean((m) => m.throughput)
    const cluster = clusterResult({config: first.config, throughput, latency}, reps, this.o.serverFlags)
    return {
      id,
      config: first.config,
      stable: reps.every((r) => r.m.verdict.stable),
      ...(failed ? {failed} : {}),
      windows,
      throughput: mean((m) => m.throughput),
      inferencesPerSec: mean((m) => m.inferencesPerSec),
      latency: reps.length === 1 ? first.m.latency : summarize(mergeHistograms(ok.flatMap((r) => r.hists))),
      errors,
      flagged: errors.total > 0 || Boolean(failed),
      stability: {...reps.at(-1)!.m.verdict, pct: this.o.stabilityPct, windows: this.o.minWindows, maxWindows: this.o.maxWindows},
      spread: {
        throughput: tp.length ? {min: Math.min(...tp), max: Math.max(...tp)} : null,
        p99Ms: p99.length ? {min: Math.min(...p99), max: Math.max(...p99)} : null,
      },
      sent: sum((m) => m.sent),
      lateSends: sum((m) => m.lateSends),
      clientCpuCores: mean((m) => m.clientCpuCores),
      serverCpuCores: ok.some((r) => r.m.serverCpuCores !== undefined) ? mean((m) => m.serverCpuCores ?? 0) : undefined,
      otherCpuCores: ok.some((r) => r.m.otherCpuCores !== undefined) ? mean((m) => m.otherCpuCores ?? 0) : undefined,
      generatorSaturated: ok.some((r) => r.m.clientCpuCores >= GENERATOR_CPU_WARN),
      meanInflight: mean((m) => m.meanInflight),
      measuredS: sum((m) => m.measuredS),
      server: lastServer,
      ...(cluster ? {cluster} : {}),
      repeats: reps.map((r) => ({throughput: r.m.throughput, p99Ms: r.m.latency.p99Ms, stable: r.m.verdict.stable, failed: r.m.failed})),
      ...(this.searchForecasts.has(id) ? {searchForecast: this.searchForecasts.get(id)!} : {}),
      ...(ciX && ciR ? {ci: {level: 0.95, windows: ciX.n, throughput: [ciX.lo, ciX.hi], meanMs: [ciR.lo, ciR.hi]}} : {}),
    }
  }
}

export function settingsOf(o: BenchOptions): BenchSettings {
  return {
    concurrency: o.concurrency,
    rate: o.rate,
    arrival: o.arrival,
    clientBatch: o.clientBatch,
    repeatRatio: o.repeatRatio,
    protocol: o.protocol,
    server: o.server,
    serverFlags: o.serverFlags,
    ...(o.replicas?.length ? {cluster: {replicas: o.replicas, lb: o.lb?.length ? o.lb : ['round-robin'], balancer: o.balancer ?? 'nginx'}} : {}),
    data: o.data ?? null,
    warmupS: o.warmupS,
    windowS: o.windowS,
    windows: o.minWindows,
    maxWindows: o.maxWindows,
    stabilityPct: o.stabilityPct,
    stabilityOn: o.stabilityOn ?? 'mean',
    minWindowRequests: o.minWindowRequests ?? 0,
    search: o.search,
    sloP99Ms: o.sloP99Ms ?? null,
    repeat: o.repeat,
    compareModel: o.compareModel ?? null,
    failFast: o.failFast,
    seed: o.seed,
    timeoutS: o.timeoutS,
  }
}
