/**
 * Which versions of which models are loaded, and the transitions between them. A base path is polled;
 * a new version is loaded (and warmed up) and becomes AVAILABLE before the version it replaces is
 * unloaded, and that one drains its queue first, so a swap under load fails no request. A version that
 * fails to load stays in the status list with its error while the previous one keeps serving.
 */
import {readdirSync, realpathSync, statSync} from 'node:fs'
import {sep} from 'node:path'
import {TfsoptError, badRequest, errorMessage, notFound} from '../errors.js'
import {detectModel, listVersions, type DetectedModel} from '../models/detect.js'
import type {ResponseCache} from './cache.js'
import type {ModelState, ServerMetrics} from './metrics.js'
import {Servable} from './servable.js'
import type {BatchingFlags, ModelSpec, RuntimeSettings, VersionPolicy} from './types.js'

export interface VersionEntry {
  version: number
  state: ModelState
  error?: string
  /** What the failed load saw, so an unchanged broken version is not retried every poll. */
  failedSig?: string
  servable?: Servable
}

interface Managed {
  spec: ModelSpec
  base?: string
  versions: Map<number, VersionEntry>
  served?: number
  busy: boolean
  /** Unloaded through the repository API: no version is wanted until it is loaded again. */
  unloaded?: boolean
}

/** One model of the repository listing (KServe v2's repository extension). */
export interface RepositoryEntry {
  name: string
  version?: string
  state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING'
  reason: string
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

export class ModelManager {
  private models = new Map<string, Managed>()
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    specs: ModelSpec[],
    private readonly runtime: RuntimeSettings,
    private readonly batching: BatchingFlags,
    private readonly metrics: ServerMetrics,
    private readonly cache: ResponseCache,
    private readonly log: (line: string) => void,
  ) {
    for (const spec of specs) {
      if (this.models.has(spec.name)) throw new TfsoptError('E_USAGE', `model name "${spec.name}" is used twice`)
      const base = listVersions(spec.path).length ? realpathSync(spec.path) : undefined
      this.models.set(spec.name, {spec, base, versions: new Map(), busy: false})
    }
  }

  /** Loads every model's initial versions; fails (and unloads all) when any model has none loaded. */
  async start(pollSeconds: number): Promise<void> {
    try {
      for (const m of this.models.values()) {
        await this.sync(m, true)
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

  private schedule(pollSeconds: number): void {
    this.timer = setTimeout(async () => {
      for (const m of this.models.values()) if (m.base) await this.sync(m, false).catch((e) => this.log(`poll of ${m.spec.name} failed: ${errorMessage(e)}`))
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
    if (m.busy || this.closed || m.unloaded) return
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
      const s = new Servable(m.spec.name, v, det, this.runtime, {...this.batching, ...definedOnly(m.spec.batching)}, this.metrics, this.log)
      await s.load()
      if (this.closed) {
        await s.unload()
        return
      }
      e.servable = s
      this.setState(m, e, 'AVAILABLE')
      if (!initial) this.log(`${m.spec.name}: version ${v} is AVAILABLE (${s.info.backend}, ${s.info.device})`)
    } catch (err) {
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
    e.servable = undefined
    this.setState(m, e, 'END')
    this.log(`${m.spec.name}: version ${e.version} unloaded`)
  }

  private updateServed(m: Managed): void {
    const avail = [...m.versions.values()].filter((e) => e.state === 'AVAILABLE').map((e) => e.version)
    const next = avail.length ? Math.max(...avail) : undefined
    if (next !== m.served) {
      if (m.served !== undefined) {
        const n = this.cache.clearModel(m.spec.name)
        this.log(`${m.spec.name}: now serving version ${next}${n ? ` (dropped ${n} cached responses)` : ''}`)
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
    return {
      model_version_status: list.map((e) => ({
        version: String(e.version),
        state: e.state,
        status: e.error ? {error_code: 'UNKNOWN', error_message: e.error} : {error_code: 'OK', error_message: ''},
      })),
    }
  }

  /** Every servable currently AVAILABLE (for the ready line, health and the test hook). */
  available(): Servable[] {
    const out: Servable[] = []
    for (const m of this.models.values()) for (const e of m.versions.values()) if (e.state === 'AVAILABLE' && e.servable) out.push(e.servable)
    return out
  }

  /** Whether every model that is meant to be loaded (not unloaded through the repository API) serves a version. */
  allAvailable(): boolean {
    return [...this.models.values()].every((m) => m.unloaded || m.served !== undefined)
  }

  /** Every model this server knows, loaded or not, with each AVAILABLE version (the v2 repository index). */
  repository(): RepositoryEntry[] {
    const out: RepositoryEntry[] = []
    for (const [name, m] of this.models) {
      const avail = [...m.versions.values()].filter((e) => e.state === 'AVAILABLE').sort((a, b) => a.version - b.version)
      for (const e of avail) out.push({name, version: String(e.version), state: 'READY', reason: ''})
      if (avail.length) continue
      const loading = [...m.versions.values()].some((e) => e.state === 'LOADING')
      const unloading = [...m.versions.values()].some((e) => e.state === 'UNLOADING')
      const failed = [...m.versions.values()].find((e) => e.error)
      out.push({
        name,
        state: loading ? 'LOADING' : unloading ? 'UNLOADING' : 'UNAVAILABLE',
        reason: m.unloaded ? 'unloaded' : (failed?.error ?? ''),
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
    await this.sync(m, false)
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
        jobs.push(
          s.unload(drainMs).then(() => {
            e.servable = undefined
            this.setState(m, e, 'END')
          }),
        )
      }
    }
    await Promise.all(jobs)
  }
}

function definedOnly(f: BatchingFlags | undefined): BatchingFlags {
  const out: BatchingFlags = {}
  if (!f) return out
  for (const [k, v] of Object.entries(f)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
