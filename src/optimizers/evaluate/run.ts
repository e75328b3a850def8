/**
 * Runs a session over a dataset in batches and concatenates the outputs; measures latency. Used for
 * the before/after figures every optimiser run reports, with both models in the same process.
 */
import {performance} from 'node:perf_hooks'
import {datasetFeeds, type Dataset} from '../../data/dataset.js'
import {TfsoptError} from '../../errors.js'
import type {Feeds, InferenceSession, Tensor} from '../../runtime/types.js'
import {median} from './metrics.js'
import {fixedBatch, type TensorInfo} from '../../models/dtypes.js'

export interface Outputs {
  names: string[]
  data: Record<string, Float32Array>
  rows: number
}

/** A model with a fixed first input dimension runs exactly that many samples at a time (`limit` rounded to whole runs). */
export function runShape(inputs: TensorInfo[], ds: Dataset, batch: number, limit: number): {batch: number; n: number} {
  const fixed = fixedBatch(inputs)
  if (!fixed) return {batch, n: Math.min(limit, ds.count)}
  const n = Math.min(Math.max(limit, fixed), ds.count)
  if (n < fixed)
    throw new TfsoptError(
      'E_DATA',
      `the model's inputs have a fixed first dimension of ${fixed}, so it takes ${fixed} samples per run; ${ds.source} holds ${ds.count}`,
    )
  return {batch: fixed, n: n - (n % fixed)}
}

export async function runAll(session: InferenceSession, ds: Dataset, rows = 32, limit = ds.count): Promise<Outputs> {
  const {batch, n} = runShape(session.inputs, ds, rows, limit)
  const parts: Record<string, Float32Array[]> = {}
  for (let s = 0; s < n; s += batch) {
    const count = Math.min(batch, n - s)
    const feeds = datasetFeeds(ds, session.inputs, s, count)
    let res: Record<string, Tensor>
    try {
      res = await session.run(feeds)
    } catch (err) {
      if (err instanceof TfsoptError) throw err
      throw new TfsoptError(
        'E_DATA',
        `running ${ds.source} through the model failed: ${(err as Error).message.split('\n')[0]}; check the data's input names and shapes against the model`,
      )
    }
    for (const [k, t] of Object.entries(res)) (parts[k] ??= []).push(toF32(t))
  }
  const names = session.outputs.map((o) => o.name).filter((k) => parts[k])
  const data: Record<string, Float32Array> = {}
  for (const k of Object.keys(parts)) data[k] = concat(parts[k]!)
  return {names: names.length ? names : Object.keys(parts), data, rows: n}
}

function toF32(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data
  if (Array.isArray(t.data)) return new Float32Array(0)
  return Float32Array.from(t.data as ArrayLike<number | bigint>, Number)
}

function concat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((s, x) => s + x.length, 0))
  let o = 0
  for (const x of xs) {
    out.set(x, o)
    o += x.length
  }
  return out
}

/** Feeds for up to `limit` samples in runs of `size` (of the model's fixed batch, when it has one). */
export function feedBatches(ds: Dataset, inputs: TensorInfo[], limit: number, size: number): Feeds[] {
  const {batch, n} = runShape(inputs, ds, size, limit)
  const out: Feeds[] = []
  for (let s = 0; s < n; s += batch) out.push(datasetFeeds(ds, inputs, s, Math.min(batch, n - s)))
  return out
}

/** Feeds of exactly `batch` samples, repeating the data when it holds fewer. */
export function batchFeeds(ds: Dataset, session: InferenceSession, batch: number): Feeds {
  if (ds.count >= batch) return datasetFeeds(ds, session.inputs, 0, batch)
  const one = datasetFeeds(ds, session.inputs, 0, ds.count)
  const feeds: Feeds = {}
  for (const [k, t] of Object.entries(one)) {
    const per = t.data.length / ds.count
    const Ctor = (t.data as Float32Array).constructor as new (n: number) => Float32Array
    const data = new Ctor(per * batch)
    for (let i = 0; i < batch; i++) data.set((t.data as Float32Array).subarray((i % ds.count) * per, ((i % ds.count) + 1) * per), i * per)
    feeds[k] = {dtype: t.dtype, dims: [batch, ...t.dims.slice(1)], data}
  }
  return feeds
}

export interface LatencyPair {
  batch: number
  beforeMs: number
  afterMs: number
  ratio: number
  runs: number
}

/**
 * Median latency of two sessions at one batch size, measured in alternating blocks (A B A B ...) so
 * that drift on a shared machine hits both equally. Runs until `budgetMs` per model or `maxRuns`.
 */
export async function compareLatency(
  a: InferenceSession,
  b: InferenceSession,
  ds: Dataset,
  batch: number,
  opts: {budgetMs?: number; maxRuns?: number; minRuns?: number} = {},
): Promise<LatencyPair> {
  const fa = batchFeeds(ds, a, batch)
  const fb = batchFeeds(ds, b, batch)
  for (let i = 0; i < 3; i++) {
    await a.run(fa)
    await b.run(fb)
  }
  const ta: number[] = []
  const tb: number[] = []
  const budget = opts.budgetMs ?? 1500
  const maxRuns = opts.maxRuns ?? 200
  const minRuns = opts.minRuns ?? 7
  let spentA = 0
  let spentB = 0
  while (ta.length < maxRuns && (ta.length < minRuns || (spentA < budget && spentB < budget))) {
    for (let k = 0; k < 5 && ta.length < maxRuns; k++) {
      let t0 = performance.now()
      await a.run(fa)
      const da = performance.now() - t0
      ta.push(da)
      spentA += da
      t0 = performance.now()
      await b.run(fb)
      const db = performance.now() - t0
      tb.push(db)
      spentB += db
    }
  }
  const beforeMs = median(ta)
  const afterMs = median(tb)
  return {batch, beforeMs, afterMs, ratio: afterMs / beforeMs, runs: ta.length}
}
