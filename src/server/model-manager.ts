/**
 * Which versions of which models are loaded, and the transitions between them. A base path is polled;
 * a new version is loaded (and warmed up) and becomes AVAILABLE before the version it replaces is
 * unloaded, and that one drains its queue first, so a swap under load fails no request. A version that
 * fails to load stays in the status list with its error while the previous one keeps serving.
 *
 * With a memory budget (--model-memory-budget) models are loaded on their first request instead of at
 * start (concurrent first requests share one load), and the least recently used idle model is unloaded
 * when a load needs its room. Loads run one at a time, so the resident-set growth around one is that
 * model's: that measured figure (memory-budget.ts) is what the budget counts.
 */
import {readdirSync, realpathSync, statSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import {dirname, sep} from 'node:path'
import {TfsoptError, badRequest, errorMessage, notFound} from '../errors.js'
import {detectModel, listVersions, type DetectedModel} from '../models/detect.js'
import type {ResponseCache} from './cache.js'
import type {ModelState, ServerMetrics} from './metrics.js'
import {chargeOf, formatBytes, memoryJson, modelFileBytes, type MemoryFigure} from './memory-budget.js'
import {Servable} from './servable.js'
import {readWarmup} from './warmup-file.js'
import type {BatchingFlags, ModelSpec, RuntimeSettings, VersionPolicy} from './types.js'

export interface VersionEntry {
  version: number
  state: ModelState
  error?: string
  /** What the failed load saw, so an unchanged broken version is not retried every poll. */
  failedSig?: string
  /** TF Serving's error code for `error` (UNKNOWN unless said otherwise, e.g. RESOURCE_EXHAUSTED). */
  errorCode?: string
  servable?: Servable
  /** What the version was measured to hold when it loaded (kept while it is loaded). */
  memory?: MemoryFigure
}

interface Managed {
  spec: ModelSpec
  base?: string
  versions: Map<number, VersionEntry>
  served?: number
  busy: boolean
  /** Unloaded through the repository API: no version is wanted until it is loaded again. */
  unloaded?: boolean
  /** Under a memory budget: meant to be loaded now (false until its first request, and once evicted). */
  resident: boolean
  /** The on-demand load under way, which every request that finds the model unloaded waits on. */
  loading?: Promise<void>
  /**
   * Requests waiting on that load and not yet pinned to the servable: the model is not idle while there
   * are any, so a load queued behind this one cannot evict it before they run (they would get 503).
   */
  waiters?: number
  /** performance.now() of the last request that asked for the model (the LRU order). */
  lastUsed: number
  /** Why the model is not loaded now (evicted, never asked for), for status and the repository index. */
  note?: string
  /** What the whole model was last measured to hold (all its versions): the next load's estimate. */
  lastBytes?: number
  /** Measured larger than the whole budget: refused at once until its files change. */
  tooLarge?: {bytes: number; sig: string; message: string}
}

export interface ManagerOptions {
  /** --model-memory-budget in bytes: models load on demand and the LRU idle one is evicted to fit. */
  memoryBudgetBytes?: number
  /** How long a request waits for its model's on-demand load (and for room in the budget). */
  loadTimeoutMs?: number
}

/** One model of the repository listing (KServe v2's repository extension). */
export interface RepositoryEntry {
  name: string
  version?: string
  state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING'
  reason: string
  /** Under a memory budget: what the READY version was measured to hold. */
  memory_bytes?: number
}

/** Errors a first load passes on as themselves: a usage mistake, or an encrypted model's key or integrity. */
const FATAL_AT_START = new Set(['E_USAGE', 'E_KEY', 'E_WRONG_KEY', 'E_TAMPERED'])

const tick = () => new Promise((r) => setTimeout(r, 20))

function choose(policy: VersionPolicy | undefined, present: number[]): number[] {
  if (!policy || 'latest' in policy) return present.slice(-(policy && 'latest' in policy ? (policy.latest.num_versions ?? 1) : 1))
  if ('all' in policy) return present
  return present.filter((v) => policy.specific.versions.includes(v))
}

/**
 * What a version directory looks like now: the name, size and mtime of every file in it (three levels
 * deep, at most 2,000 entries — a SavedModel has variables/, a TF.js model its shards). A failed version
 * is retried when this changes, so a model file that was caught half-copied and is then completed in
 * place (which leaves the directory's own mtime alone) is loaded on the next poll.
 */
export function signatureOf(dir: string): string {
  const parts: string[] = []
  const walk = (d: string, depth: number): void => {
    let names: string[]
    try {
      names = readdirSync(d).sort()
    } catch {
      parts.push(`${d}:unreadable`)
      return
    }
    for (const n of names) {
      if (parts.length >= 2000) return
      const p = `${d}${sep}${n}`
      try {
        const st = statSync(p)
        if (st.isDirectory()) {
          parts.push(`${p}/`)
          if (depth < 3) walk(p, depth + 1)
        } else parts.push(`${p}:${st.size}:${st.mtimeMs}`)
      } catch {
        parts.push(`${p}:gone`)
      }
    }
  }
  try {
    statSync(dir)
  } catch {
    return 'missing'
  }
  walk(dir, 1)
  return parts.join('|')
}

export const DEFAULT_LOAD_TIMEOUT_MS = 60_000

export class ModelManager {
  private models = new Map<string, Managed>()
  private timer: NodeJS.Timeout | undefined
  private closed = false
  /** Loads (and the evictions that make room for them) run one at a time, in this chain. */
  private lockChain: Promise<unknown> = Promise.resolve()
  /** Bytes held for a load under way (its estimate), so the budget counts it before it is measured. */
  private reserved = 0
  /** Measured bytes beyond file size × workers of recent loads: the per-load overhead estimate. */
  private overheads: number[] = []
  readonly budget: number | undefined
  private readonly loadTimeoutMs: number

  constructor(
    specs: ModelSpec[],
    private readonly runtime: RuntimeSettings,
    private readonly batching: BatchingFlags,
    private readonly metrics: ServerMetrics,
    private readonly cache: ResponseCache,
    private readonly log: (line: string) => void,
    opts: ManagerOptions = {},
  ) {
    this.budget = opts.memoryBudgetBytes
    this.loadTimeoutMs = opts.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS
    if (this.budget !== undefined) metrics.modelMemoryBudget.set(this.budget)
    for (const spec of specs) {
      if (this.models.has(spec.name)) throw new TfsoptError('E_USAGE', `model name "${spec.name}" is used twice`)
      const base = listVersions(spec.path).length ? realpathSync(spec.path) : undefined
      this.models.set(spec.name, {spec, base, versions: new Map(), busy: false, resident: this.budget === undefined, lastUsed: 0})
    }
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lockChain.then(fn, fn)
    this.lockChain = run.catch(() => {})
    return run
  }

  /**
   * Loads every model's initial versions; fails (and unloads all) when any model has none loaded. Under
   * a memory budget nothing is loaded: each model is checked to exist, and one throwaway worker opens the
   * first model so that the runtime's one-time cost (its native library, the first thread) is paid here
   * and not charged to whichever model happens to load first.
   */
  async start(pollSeconds: number): Promise<void> {
    if (this.budget !== undefined) {
      for (const m of this.models.values()) {
        this.detect(m, m.base ? choose(m.spec.policy, listVersions(m.base)).at(-1) : undefined)
        m.note = 'not loaded yet: it loads on its first request (--model-memory-budget)'
      }
      await this.primeRuntime()
      if (pollSeconds > 0) this.schedule(pollSeconds)
      return
    }
    try {
      for (const m of this.models.values()) {
        await this.withLock(() => this.sync(m, true))
        if (m.served === undefined) {
          const errs = [...m.versions.values()].map((v) => `version ${v.version}: ${v.error}`).join('; ')
          throw new TfsoptError('E_RUNTIME', `model '${m.spec.name}' has no version that loads (${errs || 'no versions found'})`)
        }
      }
    } catch (err) {
      await this.close(0)
      throw err
    }
    if (pollSeconds > 0) this.schedule(pollSeconds)
  }

  private async primeRuntime(): Promise<void> {
    const first = this.models.values().next().value
    if (!first) return
    const rss0 = process.memoryUsage.rss()
    const det = first.base ? this.detect(first, choose(first.spec.policy, listVersions(first.base)).at(-1)) : detectModel(first.spec.path)
    const probe = new Servable(first.spec.name, 0, det, {...this.runtime, workers: 1, warmup: 0}, {}, this.metrics, () => {})
    try {
      await probe.load()
    } catch (err) {
      this.log(`${first.spec.name}: the runtime probe failed to open it (${errorMessage(err)}); it will be retried on its first request`)
    } finally {
      await probe.unload(0)
      this.metrics.workers.remove({model: first.spec.name, version: '0'})
    }
    this.log(
      `memory budget ${formatBytes(this.budget!)}: runtime primed (one-time ${formatBytes(Math.max(0, process.memoryUsage.rss() - rss0))}); models load on demand`,
    )
  }

  private schedule(pollSeconds: number): void {
    this.timer = setTimeout(async () => {
      for (const m of this.models.values())
        if (m.base) await this.withLock(() => this.sync(m, false)).catch((e) => this.log(`poll of ${m.spec.name} failed: ${errorMessage(e)}`))
      if (!this.closed) this.schedule(pollSeconds)
    }, pollSeconds * 1000)
    this.timer.unref()
  }

  private detect(m: Managed, v: number | undefined): DetectedModel {
    const det = detectModel(m.base ?? m.spec.path, v)
    if (m.base) {
      // Model names never become paths, and a version directory may not link outside its base path.
      const real = realpathSync(det.sealed?.container ?? det.path)
      if (!real.startsWith(m.base + sep))
        throw new TfsoptError('E_USAGE', `version ${v} of '${m.spec.name}' resolves to ${real}, outside its base path ${m.base}; refusing to load it`)
    }
    return det
  }

  private setState(m: Managed, e: VersionEntry, state: ModelState): void {
    e.state = state
    this.metrics.setState(m.spec.name, e.version, state)
  }

  /** Loads what the policy wants and is not loaded, then unloads what it no longer wants. */
  private async sync(m: Managed, initial: boolean): Promise<void> {
    if (m.busy || this.closed || m.unloaded || !m.resident) return
    m.busy = true
    try {
      const present = m.base ? listVersions(m.base) : [1]
      const wanted = m.base ? choose(m.spec.policy, present) : [1]
      for (const v of [...wanted].sort((a, b) => b - a)) {
        const have = m.versions.get(v)
        if (have && (have.state === 'AVAILABLE' || have.state === 'LOADING')) continue
        const sig = m.base ? signatureOf(`${m.base}${sep}${v}`) : 'file'
        if (have?.failedSig === sig) continue
        await this.loadVersion(m, v, sig, initial)
      }
      const availableWanted = wanted.filter((v) => m.versions.get(v)?.state === 'AVAILABLE')
      if (availableWanted.length) {
        for (const e of m.versions.values()) if (e.state === 'AVAILABLE' && !wanted.includes(e.version)) void this.unloadVersion(m, e)
      }
      this.updateServed(m)
    } finally {
      m.busy = false
    }
  }

  private async loadVersion(m: Managed, v: number, sig: string, initial: boolean): Promise<void> {
    const e: VersionEntry = {version: v, state: 'START'}
    m.versions.set(v, e)
    this.setState(m, e, 'LOADING')
    try {
      const det = m.base ? this.detect(m, v) : detectModel(m.spec.path)
      const warmupRequests = readWarmup(m.base ? `${m.base}${sep}${v}` : statSync(m.spec.path).isDirectory() ? m.spec.path : dirname(m.spec.path))
      // At start-up nothing serves yet, so the load may take every core; later loads yield (--load-nice).
      const runtime = {...this.runtime, ...(warmupRequests.length ? {warmupRequests} : {}), loadNice: initial ? 0 : this.runtime.loadNice}
      const s = new Servable(m.spec.name, v, det, runtime, {...this.batching, ...definedOnly(m.spec.batching)}, this.metrics, this.log)
      // Loads are serialised (withLock), so what the resident set grew by while this one's workers opened
      // their sessions is this version's.
      const t0 = performance.now()
      const rss0 = process.memoryUsage.rss()
      await s.load()
      const rss1 = process.memoryUsage.rss()
      if (this.closed) {
        await s.unload()
        return
      }
      const files = modelFileBytes(det)
      e.memory = chargeOf(rss1 - rss0, files, this.runtime.workers, s.info.runtimeBytes)
      this.overheads = [...this.overheads.slice(-15), Math.max(0, e.memory.bytes - files * this.runtime.workers)]
      this.metrics.modelMemory.set({model: m.spec.name, version: String(v)}, e.memory.bytes)
      this.metrics.modelLoads.inc({model: m.spec.name, outcome: 'ok'})
      this.metrics.modelLoadSeconds.labels({model: m.spec.name}).observe((performance.now() - t0) / 1000)
      e.servable = s
      this.setState(m, e, 'AVAILABLE')
      this.updateUsed()
      if (!initial || warmupRequests.length)
        this.log(
          `${m.spec.name}: version ${v} is AVAILABLE (${s.info.backend}, ${s.info.device}${warmupRequests.length ? `, after ${warmupRequests.length} warm-up request(s)` : ''})`,
        )
    } catch (err) {
      this.metrics.modelLoads.inc({model: m.spec.name, outcome: 'error'})
      e.error = errorMessage(err)
      e.failedSig = sig
      this.setState(m, e, 'END')
      this.log(`${m.spec.name}: version ${v} failed to load: ${e.error}${m.served !== undefined ? `; version ${m.served} keeps serving` : ''}`)
      if (initial && err instanceof TfsoptError && FATAL_AT_START.has(err.code)) throw err
    }
  }

  private async unloadVersion(m: Managed, e: VersionEntry): Promise<void> {
    this.setState(m, e, 'UNLOADING')
    const s = e.servable!
    await s.unload()
    this.freed(m, e)
    this.log(`${m.spec.name}: version ${e.version} unloaded`)
  }

  /** A version's servable is gone: END, and its memory no longer counts. */
  private freed(m: Managed, e: VersionEntry): void {
    e.servable = undefined
    e.memory = undefined
    this.metrics.modelMemory.set({model: m.spec.name, version: String(e.version)}, 0)
    this.setState(m, e, 'END')
    this.updateUsed()
  }

  private updateServed(m: Managed): void {
    const avail = [...m.versions.values()].filter((e) => e.state === 'AVAILABLE').map((e) => e.version)
    const next = avail.length ? Math.max(...avail) : undefined
    if (next !== m.served) {
      if (m.served !== undefined) {
        const n = this.cache.clearModel(m.spec.name)
        if (next !== undefined) this.log(`${m.spec.name}: now serving version ${next}${n ? ` (dropped ${n} cached responses)` : ''}`)
      }
      m.served = next
    }
  }

  private get(name: string): Managed {
    const m = this.models.get(name)
    if (!m) throw notFound(`model '${name}' is not served here; models: ${[...this.models.keys()].join(', ')}`)
    return m
  }

  has(name: string): boolean {
    return this.models.has(name)
  }

  /** The servable a request addresses: an explicit version, a label, or the latest AVAILABLE one. */
  resolve(name: string, version?: number, label?: string): Servable {
    const m = this.get(name)
    let v = version
    if (label !== undefined) {
      v = m.spec.labels?.[label]
      if (v === undefined) throw notFound(`model '${name}' has no version label '${label}'; labels: ${Object.keys(m.spec.labels ?? {}).join(', ') || 'none'}`)
    }
    if (v === undefined) {
      if (m.unloaded)
        throw new TfsoptError('E_UNAVAILABLE', `model '${name}' is unloaded; load it again with POST /v2/repository/models/${encodeURIComponent(name)}/load`)
      if (!m.resident)
        throw new TfsoptError(
          'E_UNAVAILABLE',
          `model '${name}' is not loaded (${m.note ?? 'memory budget'}); a predict request loads it, or POST /v2/repository/models/${encodeURIComponent(name)}/load`,
        )
      if (m.served === undefined) throw new TfsoptError('E_UNAVAILABLE', `model '${name}' has no AVAILABLE version yet`)
      v = m.served
    }
    const e = m.versions.get(v)
    if (e?.state !== 'AVAILABLE' || !e.servable) {
      const avail = [...m.versions.values()].filter((x) => x.state === 'AVAILABLE').map((x) => x.version)
      if (e?.state === 'LOADING') throw new TfsoptError('E_UNAVAILABLE', `version ${v} of '${name}' is still LOADING`)
      throw notFound(`version ${v} of model '${name}' is not available${label ? ` (label '${label}')` : ''}; available versions: ${avail.join(', ') || 'none'}`)
    }
    return e.servable
  }

  /**
   * resolve() for a request that runs the model: under a memory budget a model that is not loaded is
   * loaded first (the caller awaits; every request arriving meanwhile shares that load), and the
   * request counts as a use in the LRU order. Returns the servable itself (no promise) when it is loaded.
   */
  acquire(name: string, version?: number, label?: string): Servable | Promise<Servable> {
    if (this.budget === undefined) return this.resolve(name, version, label)
    const m = this.get(name)
    m.lastUsed = performance.now()
    if ((m.resident && !m.loading) || m.unloaded) return pinBriefly(this.resolve(name, version, label))
    const t0 = m.lastUsed
    m.waiters = (m.waiters ?? 0) + 1
    return this.loadOnDemand(m)
      .then(() => {
        this.metrics.coldStartSeconds.labels({model: name}).observe((performance.now() - t0) / 1000)
        return pinBriefly(this.resolve(name, version, label))
      })
      .finally(() => {
        m.waiters!--
      })
  }

  /** Loads a model under the budget (sharing a load under way), bounded for the caller by the load timeout. */
  private async loadOnDemand(m: Managed): Promise<void> {
    this.refuseTooLarge(m)
    if (m.resident && !m.loading) return
    m.loading ??= this.withLock(() => this.admit(m)).finally(() => {
      m.loading = undefined
    })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TfsoptError(
              'E_UNAVAILABLE',
              `model '${m.spec.name}' is still LOADING after ${this.loadTimeoutMs / 1000} s (--model-load-timeout); the load goes on, retry shortly`,
            ),
          ),
        this.loadTimeoutMs,
      )
    })
    try {
      await Promise.race([m.loading, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  private refuseTooLarge(m: Managed): void {
    if (!m.tooLarge) return
    if (m.tooLarge.sig === signatureOf(m.base ?? m.spec.path)) throw new TfsoptError('E_MODEL_MEMORY', m.tooLarge.message)
    m.tooLarge = undefined // its files changed: measure it again
    m.lastBytes = undefined
  }

  /** What the next load of `m` should need: its last measured figure, else its files plus the typical overhead. */
  private estimate(m: Managed): number {
    if (m.lastBytes !== undefined) return m.lastBytes
    const present = m.base ? listVersions(m.base) : [1]
    const wanted = m.base ? choose(m.spec.policy, present) : [1]
    const overheads = [...this.overheads].sort((a, b) => a - b)
    const overhead = overheads.length ? overheads[Math.floor(overheads.length / 2)]! : 0
    let total = 0
    for (const v of wanted) {
      try {
        total += modelFileBytes(m.base ? this.detect(m, v) : detectModel(m.spec.path)) * this.runtime.workers + overhead
      } catch {
        // a version that cannot be detected fails its load, with its own message
      }
    }
    return total
  }

  /** Bytes the loaded versions hold (as measured) plus the load under way. */
  private used(): number {
    let n = this.reserved
    for (const m of this.models.values()) for (const e of m.versions.values()) if (e.servable && e.memory) n += e.memory.bytes
    return n
  }

  private modelBytes(m: Managed): number {
    let n = 0
    for (const e of m.versions.values()) if (e.servable && e.memory) n += e.memory.bytes
    return n
  }

  private updateUsed(): void {
    if (this.budget !== undefined) this.metrics.modelMemoryUsed.set(this.used())
  }

  private idle(m: Managed): boolean {
    if (m.busy || m.loading || m.waiters || !m.resident) return false
    for (const e of m.versions.values()) if (e.servable && !e.servable.idle) return false
    return true
  }

  /**
   * Under the lock: makes room for `m` (evicting the least recently used idle models, waiting for busy
   * ones up to the load timeout), loads it, and checks what it was measured to hold against the budget.
   */
  private async admit(m: Managed): Promise<void> {
    if (this.closed) throw new TfsoptError('E_UNAVAILABLE', 'the server is shutting down')
    if (m.resident) return
    while (m.busy) await tick()
    const budget = this.budget!
    const need = this.estimate(m)
    await this.makeRoom(m, need, performance.now() + this.loadTimeoutMs)
    m.resident = true
    m.note = undefined
    this.reserved = need
    this.updateUsed()
    try {
      await this.sync(m, false)
    } finally {
      this.reserved = 0
      this.updateUsed()
    }
    if (m.served === undefined) {
      m.resident = false
      const errs = [...m.versions.values()].filter((e) => e.error).map((e) => `version ${e.version}: ${e.error}`)
      throw new TfsoptError('E_UNAVAILABLE', `model '${m.spec.name}' did not load${errs.length ? ` (${errs.join('; ')})` : ''}`)
    }
    // The requests that waited for this load run next (in microtasks): until then no other load may evict it.
    for (const e of m.versions.values()) if (e.servable) pinBriefly(e.servable)
    m.lastUsed = performance.now()
    const bytes = this.modelBytes(m)
    m.lastBytes = bytes
    if (bytes > budget) {
      const figures = [...m.versions.values()].filter((e) => e.memory).map((e) => e.memory!)
      const rss = figures.reduce((a, f) => a + f.rssDeltaBytes, 0)
      const files = figures.reduce((a, f) => a + f.fileBytes, 0)
      const message =
        `model '${m.spec.name}' needs ${formatBytes(bytes)} (measured as it loaded: resident set +${formatBytes(rss)}, files ${formatBytes(files)} × ${this.runtime.workers} worker(s)) ` +
        `but the whole model memory budget is ${formatBytes(budget)}; raise --model-memory-budget (or model_memory_budget in the model config file), ` +
        'serve it with fewer --workers, or make it smaller (tfsopt quantize)'
      this.metrics.modelLoads.inc({model: m.spec.name, outcome: 'too_large'})
      await this.evict(m, 'too large for the memory budget')
      for (const e of m.versions.values()) {
        e.error = message
        e.errorCode = 'RESOURCE_EXHAUSTED'
      }
      m.tooLarge = {bytes, sig: signatureOf(m.base ?? m.spec.path), message}
      m.note = message
      this.log(message)
      throw new TfsoptError('E_MODEL_MEMORY', message)
    }
    // The estimate may have been low: with the measured figure, evict what no longer fits (idle ones only).
    if (this.used() > budget) await this.makeRoom(m, 0, 0)
    if (this.used() > budget)
      this.log(`memory budget: ${formatBytes(this.used())} loaded, over ${formatBytes(budget)} while busy models finish; the next load evicts them`)
  }

  /** Evicts idle models, least recently used first, until `need` more bytes fit; waits for busy ones until `deadline`. */
  private async makeRoom(except: Managed, need: number, deadline: number): Promise<void> {
    const budget = this.budget!
    while (this.used() + need > budget) {
      let victim: Managed | undefined
      let busy = 0
      for (const o of this.models.values()) {
        if (o === except || !o.resident || !this.modelBytes(o)) continue
        if (!this.idle(o)) {
          busy++
          continue
        }
        if (!victim || o.lastUsed < victim.lastUsed) victim = o
      }
      if (victim) {
        await this.evict(
          victim,
          `evicted (least recently used) to make room for '${except.spec.name}' under the memory budget; it loads again on its next request`,
        )
        this.metrics.modelEvictions.inc({model: victim.spec.name})
        continue
      }
      if (!busy || performance.now() >= deadline) {
        if (!busy) return // nothing left to evict: the model alone fits (checked once it is measured)
        const names = [...this.models.values()].filter((o) => o !== except && o.resident && !this.idle(o)).map((o) => `'${o.spec.name}'`)
        throw new TfsoptError(
          'E_UNAVAILABLE',
          `model '${except.spec.name}' needs about ${formatBytes(need)} but the memory budget (${formatBytes(budget)}) is held by models with requests in flight (${names.join(', ')}); retry shortly, or raise --model-memory-budget`,
        )
      }
      await tick()
    }
  }

  /** Unloads every version of an idle model to free its memory; it loads again on its next request. */
  private async evict(m: Managed, why: string): Promise<void> {
    m.busy = true
    try {
      m.resident = false
      m.note = why
      const loaded = [...m.versions.values()].filter((e) => e.servable)
      for (const e of loaded) this.setState(m, e, 'UNLOADING')
      this.updateServed(m)
      await Promise.all(
        loaded.map(async (e) => {
          await e.servable!.unload(10_000)
          this.freed(m, e)
        }),
      )
      this.log(`${m.spec.name}: ${why}`)
    } finally {
      m.busy = false
    }
  }

  /** TF Serving's GetModelStatus answer. */
  status(name: string, version?: number, label?: string): unknown {
    const m = this.get(name)
    let list = [...m.versions.values()].sort((a, b) => b.version - a.version)
    if (label !== undefined) {
      const v = m.spec.labels?.[label]
      if (v === undefined) throw notFound(`model '${name}' has no version label '${label}'`)
      version = v
    }
    if (version !== undefined) {
      list = list.filter((e) => e.version === version)
      if (!list.length) throw notFound(`model '${name}' has no version ${version}; versions: ${[...m.versions.keys()].join(', ')}`)
    }
    if (!list.length && this.budget !== undefined && !m.resident) {
      // Never loaded yet: the versions it would load, in TF Serving's START state ("tracked, nothing done yet").
      const wanted = m.base ? choose(m.spec.policy, listVersions(m.base)) : [1]
      list = wanted.filter((v) => version === undefined || v === version).map((v) => ({version: v, state: 'START' as ModelState}))
    }
    const out: Record<string, unknown> = {
      model_version_status: list.map((e) => ({
        version: String(e.version),
        state: e.state,
        status: e.error ? {error_code: e.errorCode ?? 'UNKNOWN', error_message: e.error} : {error_code: 'OK', error_message: ''},
        ...(this.budget !== undefined && e.memory ? {memory: memoryJson(e.memory)} : {}),
      })),
    }
    if (this.budget !== undefined)
      out.memory_budget = {
        budget_bytes: this.budget,
        used_bytes: this.used(),
        model_bytes: this.modelBytes(m),
        loaded: m.resident && m.served !== undefined,
        ...(m.note ? {note: m.note} : {}),
      }
    return out
  }

  /** Every servable currently AVAILABLE (for the ready line, health and the test hook). */
  available(): Servable[] {
    const out: Servable[] = []
    for (const m of this.models.values()) for (const e of m.versions.values()) if (e.state === 'AVAILABLE' && e.servable) out.push(e.servable)
    return out
  }

  /** Whether every model that is meant to be loaded (not unloaded through the repository API) serves a version. */
  allAvailable(): boolean {
    // Under a memory budget a model that is not loaded is still servable: its first request loads it.
    return [...this.models.values()].every((m) => m.unloaded || m.served !== undefined || (this.budget !== undefined && !m.resident))
  }

  /** Every model this server knows, loaded or not, with each AVAILABLE version (the v2 repository index). */
  repository(): RepositoryEntry[] {
    const out: RepositoryEntry[] = []
    for (const [name, m] of this.models) {
      const avail = [...m.versions.values()].filter((e) => e.state === 'AVAILABLE').sort((a, b) => a.version - b.version)
      for (const e of avail)
        out.push({
          name,
          version: String(e.version),
          state: 'READY',
          reason: '',
          ...(this.budget !== undefined && e.memory ? {memory_bytes: e.memory.bytes} : {}),
        })
      if (avail.length) continue
      const loading = [...m.versions.values()].some((e) => e.state === 'LOADING')
      const unloading = [...m.versions.values()].some((e) => e.state === 'UNLOADING')
      const failed = [...m.versions.values()].find((e) => e.error)
      out.push({
        name,
        state: loading ? 'LOADING' : unloading ? 'UNLOADING' : 'UNAVAILABLE',
        reason: m.unloaded ? 'unloaded' : (failed?.error ?? m.note ?? ''),
      })
    }
    return out
  }

  /** Waits for a poll of the model to finish, then holds it (load/unload must not interleave with one). */
  private async hold(m: Managed): Promise<void> {
    while (m.busy) await tick()
    m.busy = true
  }

  /**
   * Unloads every version of a model (the v2 repository extension): new requests are refused at once,
   * the ones queued drain (bounded by drainMs), and polling leaves the model alone until it is loaded again.
   */
  async unloadModel(name: string, drainMs = 10_000): Promise<void> {
    const m = this.get(name)
    await this.hold(m)
    try {
      m.unloaded = true
      const loaded = [...m.versions.values()].filter((e) => e.servable)
      for (const e of loaded) this.setState(m, e, 'UNLOADING')
      this.updateServed(m)
      await Promise.all(
        loaded.map(async (e) => {
          await e.servable!.unload(drainMs)
          e.servable = undefined
          this.setState(m, e, 'END')
        }),
      )
      this.log(`${name}: unloaded (repository API)`)
    } finally {
      m.busy = false
    }
  }

  /** Loads a model's wanted versions again (or retries a model none of whose versions loaded); fails when none loads. */
  async loadModel(name: string): Promise<void> {
    const m = this.get(name)
    if (this.closed) throw new TfsoptError('E_UNAVAILABLE', 'the server is shutting down')
    while (m.busy) await tick()
    m.unloaded = false
    for (const e of m.versions.values()) e.failedSig = undefined
    if (this.budget !== undefined) await this.loadOnDemand(m)
    else await this.withLock(() => this.sync(m, false))
    if (m.served === undefined) {
      const errs = [...m.versions.values()]
        .filter((e) => e.error)
        .map((e) => `version ${e.version}: ${e.error}`)
        .join('; ')
      throw badRequest(`model '${name}' did not load${errs ? ` (${errs})` : ''}`)
    }
  }

  /** Stops polling, drains every loaded version (bounded by drainMs) and stops the workers. */
  async close(drainMs: number): Promise<void> {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    const jobs: Promise<void>[] = []
    for (const m of this.models.values()) {
      for (const e of m.versions.values()) {
        if (!e.servable) continue
        this.setState(m, e, 'UNLOADING')
        const s = e.servable
        jobs.push(s.unload(drainMs).then(() => this.freed(m, e)))
      }
    }
    await Promise.all(jobs)
  }
}

/**
 * Pins a servable until the next turn of the event loop: a caller that awaited acquire() runs in a
 * microtask before that, and takes its own hold (a pin, or a request in the batcher) synchronously.
 */
function pinBriefly(s: Servable): Servable {
  s.pins++
  setImmediate(() => s.pins--)
  return s
}

function definedOnly(f: BatchingFlags | undefined): BatchingFlags {
  const out: BatchingFlags = {}
  if (!f) return out
  for (const [k, v] of Object.entries(f)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
