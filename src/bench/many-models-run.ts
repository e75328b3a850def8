/**
 * The runner for `tfsopt bench --models N` (see many-models.ts for the pure parts). Built-in target:
 * N copies of the model in a temporary directory, listed in a model config file; one `tfsopt serve`
 * child with a huge budget measures one model's memory (its first request loads it), then the measured
 * server runs with --model-memory-budget sized for `fit` models and half of one more. External target
 * (--url): the user lists the model names and says how many fit. Each point is a closed loop of
 * `concurrency` clients, each drawing a model from the popularity per request, for `seconds`.
 */
import {copyFileSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {basename, extname, join} from 'node:path'
import {TfsoptError, errorMessage} from '../errors.js'
import {mulberry32} from '../stats/prng.js'
import {startServeProcess, type ServerHandle} from './server-process.js'
import {fetchSignature, getJson} from './target.js'
import {drawIndex, type ManyModelsRun, type ManyModelsSample, type Popularity, popularityShares, summarisePoint} from './many-models.js'

export interface ManyModelsOptions {
  /** Built-in server: the model file copied N times. */
  model?: string
  /** External server: its REST URL and the model names (N = names.length). */
  url?: string
  names?: string[]
  models: number
  popularity: Popularity
  zipfS: number
  /** How many models the budget holds; built-in default 2, required with --url. */
  fit: number
  concurrency: number[]
  seconds: number
  seed: number
  timeoutS: number
  /** A predict body; default: generated from the first model's signature (zeros of its input shape). */
  body?: string
  /** Extra flags for the built-in server. */
  serverFlags?: string[]
}

async function defaultBody(url: string, name: string): Promise<string> {
  const sig = await fetchSignature(url, name)
  if (!sig.length) throw new TfsoptError('E_USAGE', `cannot read the input signature of ${name} at ${url}: give a request body with --data`)
  const instance: Record<string, unknown> = {}
  for (const s of sig) {
    const dims = s.dims.slice(1).map((d) => (d > 0 ? d : 1))
    const fill = (i: number): unknown => (i === dims.length ? 0 : Array.from({length: dims[i]!}, () => fill(i + 1)))
    instance[s.name] = fill(0)
  }
  const only = sig.length === 1 ? instance[sig[0]!.name] : instance
  return JSON.stringify({instances: [only]})
}

async function predict(url: string, name: string, body: string, timeoutS: number): Promise<ManyModelsSample> {
  const t0 = performance.now()
  try {
    const r = await fetch(`${url}/v1/models/${encodeURIComponent(name)}:predict`, {
      method: 'POST',
      body,
      headers: {'content-type': 'application/json'},
      signal: AbortSignal.timeout(timeoutS * 1000),
    })
    await r.arrayBuffer()
    return {ms: performance.now() - t0, status: r.status, cold: r.headers.get('x-tfsopt-cold-start') === '1'}
  } catch {
    return {ms: performance.now() - t0, status: 0, cold: false}
  }
}

async function closedLoop(url: string, names: string[], shares: number[], body: string, o: ManyModelsOptions, c: number, seed: number) {
  const rand = mulberry32(seed)
  const samples: ManyModelsSample[] = []
  const deadline = performance.now() + o.seconds * 1000
  const t0 = performance.now()
  await Promise.all(
    Array.from({length: c}, async () => {
      while (performance.now() < deadline) samples.push(await predict(url, names[drawIndex(shares, rand)]!, body, o.timeoutS))
    }),
  )
  return {samples, seconds: (performance.now() - t0) / 1000}
}

function writeCopies(model: string, n: number): {dir: string; names: string[]; config: string} {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-bench-models-'))
  const ext = extname(model) || '.onnx'
  const stem = basename(model, ext).replace(/[^A-Za-z0-9_-]/g, '_') || 'model'
  const names = Array.from({length: n}, (_, i) => `${stem}-${i + 1}`)
  const lines = ['model_config_list:']
  for (const name of names) {
    const file = join(dir, `${name}${ext}`)
    copyFileSync(model, file)
    lines.push(`  - {name: ${name}, base_path: ${JSON.stringify(file)}}`)
  }
  const config = join(dir, 'models.yaml')
  writeFileSync(config, `${lines.join('\n')}\n`)
  return {dir, names, config}
}

async function start(config: string, budget: string | number, extra: string[]): Promise<ServerHandle> {
  return startServeProcess({
    model: '',
    noWait: true,
    config: {workers: 1, extraFlags: ['--model-config-file', config, '--model-memory-budget', String(budget), ...extra]},
  })
}

async function measuredBytes(url: string, name: string): Promise<number> {
  const r = await getJson(`${url}/v1/models/${encodeURIComponent(name)}`)
  const v = (r.body as {model_version_status?: {memory?: {bytes?: number}}[]}).model_version_status?.[0]?.memory?.bytes
  if (!(typeof v === 'number' && v > 0)) throw new TfsoptError('E_RUNTIME', `the server did not report the memory of ${name} (got ${JSON.stringify(r.body)})`)
  return v
}

export async function runManyModels(o: ManyModelsOptions): Promise<ManyModelsRun> {
  const startedAt = new Date().toISOString()
  const shares = popularityShares(o.popularity, o.models, o.zipfS)
  const load0 = loadavg()[0]!
  const points = []
  if (o.url) {
    const names = o.names ?? []
    const body = o.body ?? (await defaultBody(o.url, names[0]!))
    for (const c of o.concurrency) {
      const m = await closedLoop(o.url, names, shares, body, o, c, o.seed + c)
      points.push(summarisePoint(m.samples, shares, o.fit, c, m.seconds))
    }
    return {
      schema: 'tfsopt-bench-many-models/1',
      startedAt,
      target: {url: o.url, builtIn: false},
      models: names,
      popularity: o.popularity,
      zipfS: o.zipfS,
      fit: o.fit,
      loadAverage: [load0, loadavg()[0]!],
      points,
    }
  }
  const copies = writeCopies(o.model!, o.models)
  let srv: ServerHandle | undefined
  try {
    // One load, measured, sizes the budget: room for `fit` models and half of one more.
    srv = await start(copies.config, '1TB', o.serverFlags ?? [])
    const body = o.body ?? (await defaultBody(srv.url, copies.names[0]!))
    const one = await measuredBytes(srv.url, copies.names[0]!)
    await srv.stop()
    const budget = Math.round(one * (o.fit + 0.5))
    srv = await start(copies.config, budget, o.serverFlags ?? [])
    for (const c of o.concurrency) {
      const m = await closedLoop(srv.url, copies.names, shares, body, o, c, o.seed + c)
      if (!srv.alive()) throw new TfsoptError('E_UNAVAILABLE', `the server exited during the run:\n${srv.stderrTail()}`)
      points.push(summarisePoint(m.samples, shares, o.fit, c, m.seconds))
    }
    return {
      schema: 'tfsopt-bench-many-models/1',
      startedAt,
      target: {url: srv.url, builtIn: true},
      model: o.model,
      models: copies.names,
      popularity: o.popularity,
      zipfS: o.zipfS,
      fit: o.fit,
      oneModelBytes: one,
      budgetBytes: budget,
      loadAverage: [load0, loadavg()[0]!],
      points,
    }
  } catch (err) {
    throw err instanceof TfsoptError ? err : new TfsoptError('E_RUNTIME', `bench --models failed: ${errorMessage(err)}`)
  } finally {
    await srv?.stop()
    rmSync(copies.dir, {recursive: true, force: true})
  }
}
