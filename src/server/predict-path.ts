/**
 * What every protocol front (TF Serving REST, TF Serving gRPC, KServe v2) needs from the server core,
 * and nothing about HTTP: resolve a model version, run decoded inputs through the response cache and
 * the version's batcher, report versions' states, check the API key, and say whether it is draining.
 */
import type {Feeds, Tensor} from '../runtime/types.js'
import {makeAuthCheck} from './auth.js'
import {cacheKey, type ResponseCache} from './cache.js'
import type {ModelManager, RepositoryEntry} from './model-manager.js'
import type {Servable} from './servable.js'
import type {RequestTrace} from './access-log.js'

/** One version's entry in TF Serving's GetModelStatus answer (the REST form; gRPC converts it). */
export interface VersionStatus {
  version: string
  state: string
  status: {error_code: string; error_message: string}
}

export interface PredictPath {
  /** The servable a request addresses: a version, a label, or (neither) the latest AVAILABLE one. */
  resolve(model: string, version?: number, label?: string): Servable
  /**
   * resolve() for a request that will run the model: under a memory budget a model that is not loaded
   * is loaded first (a promise then; the servable itself when it is loaded).
   */
  acquire(model: string, version?: number, label?: string): Servable | Promise<Servable>
  /** Whether the model name is served here at all. */
  has(model: string): boolean
  status(model: string, version?: number, label?: string): {model_version_status: VersionStatus[]}
  /** Every version AVAILABLE now (for readiness and repository listings). */
  available(): Servable[]
  /** Whether every served model has an AVAILABLE version. */
  ready(): boolean
  /** Runs the inputs (already checked against the model) through the cache and the batcher. */
  predict(s: Servable, feeds: Feeds, signature: string, trace?: RequestTrace): Promise<Record<string, Tensor>>
  /** Checks an `Authorization` value ("Bearer <key>"); always true without an API key. */
  authorized(header: string | undefined): boolean
  /** The model repository: every model known, loaded or not. */
  repository(): RepositoryEntry[]
  load(model: string): Promise<void>
  unload(model: string): Promise<void>
}

export function makePredictPath(manager: ModelManager, cache: ResponseCache, apiKey: string | undefined): PredictPath {
  const authorized = makeAuthCheck(apiKey)
  return {
    resolve: (model, version, label) => manager.resolve(model, version, label),
    acquire: (model, version, label) => manager.acquire(model, version, label),
    has: (model) => manager.has(model),
    status: (model, version, label) => manager.status(model, version, label) as {model_version_status: VersionStatus[]},
    available: () => manager.available(),
    ready: () => manager.allAvailable(),
    authorized,
    repository: () => manager.repository(),
    load: (model) => manager.loadModel(model),
    unload: (model) => manager.unloadModel(model),
    async predict(s, feeds, signature, trace) {
      const vm = s.metrics
      let key: string | undefined
      if (cache.enabled) {
        key = cacheKey(s.model, s.version, signature, feeds)
        const hit = cache.get(key)
        if (trace) trace.cache = hit ? 'hit' : 'miss'
        if (hit) {
          vm.cacheHits.inc()
          return hit
        }
        vm.cacheMisses.inc()
      }
      vm.inflight.inc()
      let outputs: Record<string, Tensor>
      try {
        outputs = await s.predict(feeds, signature, trace)
      } finally {
        vm.inflight.dec()
      }
      if (key) cache.set(key, s.model, s.version, outputs)
      return outputs
    },
  }
}
