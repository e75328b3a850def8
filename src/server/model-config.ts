/**
 * --model-config-file: several models, in the spirit of TF Serving's model_config_list, as JSON or
 * YAML. Paths are relative to the file.
 *
 *   model_config_list:
 *     - name: mnist
 *       base_path: ./models/mnist          # numeric version directories, or one model file
 *       model_version_policy: {latest: {num_versions: 1}}   # or {all: {}} or {specific: {versions: [1, 2]}}
 *       version_labels: {stable: 1, canary: 2}
 *       batching: {max_batch_size: 32, batch_timeout_micros: 500}   # optional, overrides the flags
 *   model_memory_budget: 2GiB        # optional, as --model-memory-budget (which overrides it)
 *   model_load_timeout_seconds: 60   # optional, as --model-load-timeout
 *   load_nice: 10                    # optional, as --load-nice
 */
import {readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {TfsoptError, usageError} from '../errors.js'
import type {BatchingFlags, ModelSpec, VersionPolicy} from './types.js'

const NAME = /^[A-Za-z0-9_.-]+$/
const LABEL = /^[A-Za-z0-9_]+$/

export function validateModelName(name: string, where: string): string {
  if (!NAME.test(name)) throw usageError(`${where}: model name "${name}" may only hold letters, digits, '_', '-' and '.'`)
  return name
}

function policyFrom(v: unknown, where: string): VersionPolicy | undefined {
  if (v === undefined || v === null) return undefined
  const o = v as Record<string, unknown>
  if ('latest' in o) {
    const n = (o.latest as {num_versions?: unknown} | null)?.num_versions ?? 1
    if (!Number.isInteger(n) || (n as number) < 1) throw usageError(`${where}: latest.num_versions must be a positive integer`)
    return {latest: {num_versions: n as number}}
  }
  if ('all' in o) return {all: {}}
  if ('specific' in o) {
    const vs = (o.specific as {versions?: unknown} | null)?.versions
    const list = (Array.isArray(vs) ? vs : [vs]).map(Number)
    if (!list.length || list.some((x) => !Number.isInteger(x) || x < 0)) throw usageError(`${where}: specific.versions must list version numbers`)
    return {specific: {versions: list}}
  }
  throw usageError(`${where}: model_version_policy must be {latest: {num_versions: N}}, {all: {}} or {specific: {versions: [...]}}`)
}

function batchingFrom(v: unknown): BatchingFlags | undefined {
  if (!v || typeof v !== 'object') return undefined
  const o = v as Record<string, unknown>
  const num = (x: unknown) => (x === undefined ? undefined : Number(x))
  return {
    maxBatchSize: num(o.max_batch_size),
    batchTimeoutMicros: num(o.batch_timeout_micros),
    maxEnqueuedBatches: num(o.max_enqueued_batches),
    allowedBatchSizes: Array.isArray(o.allowed_batch_sizes) ? o.allowed_batch_sizes.map(Number) : undefined,
  }
}

/** What a model config file holds besides the models: server-wide settings that flags override. */
export interface ModelConfigFile {
  models: ModelSpec[]
  /** model_memory_budget: bytes, a string with a unit ("2GiB") or a percentage ("25%"); checked by startServer. */
  memoryBudget?: string | number
  loadTimeoutSeconds?: number
  /** load_nice: 0–19, as --load-nice. */
  loadNice?: number
}

export function readModelConfig(file: string): ModelSpec[] {
  return readModelConfigFile(file).models
}

export function readModelConfigFile(file: string): ModelConfigFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new TfsoptError('E_NOT_FOUND', `model config file not found: ${file}`)
  }
  let doc: unknown
  try {
    doc = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw usageError(`${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`)
  }
  let list = (doc as {model_config_list?: unknown} | null)?.model_config_list
  if (list && !Array.isArray(list) && typeof list === 'object') list = (list as {config?: unknown}).config
  if (!Array.isArray(list) || list.length === 0)
    throw usageError(`${file}: expected model_config_list: a list of {name, base_path, model_version_policy?, version_labels?}`)
  const dir = dirname(resolve(file))
  const seen = new Set<string>()
  const top = doc as {model_memory_budget?: unknown; model_load_timeout_seconds?: unknown; load_nice?: unknown}
  const budget = top.model_memory_budget
  if (budget !== undefined && typeof budget !== 'string' && typeof budget !== 'number')
    throw usageError(`${file}: model_memory_budget must be bytes (e.g. 2GiB, 512MB, 1500000) or a percentage (e.g. 25%)`)
  const timeout = top.model_load_timeout_seconds
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0)) throw usageError(`${file}: model_load_timeout_seconds must be a positive number`)
  const nice = top.load_nice
  if (nice !== undefined && !(Number.isInteger(nice) && (nice as number) >= 0 && (nice as number) <= 19))
    throw usageError(`${file}: load_nice must be an integer from 0 to 19 (0: loads compete with serving as equals)`)
  const models = list.map((raw, i) => {
    const c = raw as Record<string, unknown>
    const where = `${file}: model ${i + 1}`
    if (typeof c.name !== 'string' || typeof c.base_path !== 'string') throw usageError(`${where}: needs name and base_path`)
    const name = validateModelName(c.name, where)
    if (seen.has(name)) throw usageError(`${where}: model name "${name}" appears twice`)
    seen.add(name)
    const labels: Record<string, number> = {}
    for (const [k, v] of Object.entries((c.version_labels ?? {}) as Record<string, unknown>)) {
      if (!LABEL.test(k) || !Number.isInteger(Number(v)))
        throw usageError(`${where}: version label ${k}: ${String(v)} must be [A-Za-z0-9_]+ mapped to a version number`)
      labels[k] = Number(v)
    }
    return {name, path: resolve(dir, c.base_path), policy: policyFrom(c.model_version_policy, where), labels, batching: batchingFrom(c.batching)}
  })
  return {models, memoryBudget: budget as string | number | undefined, loadTimeoutSeconds: timeout as number | undefined, loadNice: nice as number | undefined}
}
