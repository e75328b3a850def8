/**
 * The JSON codec's share of the work that runs inside an inference worker (docs/SERVE.md, "The JSON
 * data path"): the main thread has only scanned a large body's structure (predict-bytes' first pass)
 * and batched it; the worker parses each request's numbers straight into the batch's input tensor, and
 * writes each request's slice of the outputs as its JSON answer. So the per-number work, which is most
 * of a big JSON request's cost, runs on as many threads as there are workers.
 */
import {TfsoptError, errorMessage} from '../errors.js'
import type {DType} from '../models/dtypes.js'
import type {Feeds, Tensor} from '../runtime/types.js'
import type {PredictFormat} from './predict-codec.js'
import {allocFor, fillScanned} from './predict-bytes.js'
import {encodePredictBytes} from './predict-encode.js'
import type {BodyPool} from './body-pool.js'

/** A JSON body that the main thread scanned but did not parse: where each input's values lie in it. */
export interface ScannedBody {
  body: Uint8Array
  tensors: {name: string; start: number; end: number}[]
}

/** One request's rows of a batch the worker assembles: decoded tensors, or a scanned JSON body. */
export type BatchPart = {rows: number; feeds: Feeds; json?: undefined} | {rows: number; json: ScannedBody; feeds?: undefined}

export interface AssemblePlan {
  /** Every input: its dtype and its dimensions after the 0th. */
  inputs: {name: string; dtype: DType; inner: number[]}[]
  /** Rows in the batch tensor (the parts' rows, padded up to an allowed batch size with row 0). */
  padTo: number
  parts: BatchPart[]
}

/**
 * Why one request of a batch failed where the others did not. `reparse`: the byte decoder gave up on
 * one of its values (a wrong type, an out-of-range integer...); its body goes back to the main thread,
 * which takes it down the main-thread path, so the answer (or the 400) is word for word the same, and
 * the JSON.parse fallback's memory is charged to the in-flight budget there.
 */
export interface PartError {
  status: number
  message: string
  reparse?: Uint8Array
}

/** A request whose body came back from the worker for the main-thread path (PartError.reparse). */
export class ReparseBody extends Error {
  constructor(readonly body: Uint8Array) {
    super('the byte decoder left this body to the JSON.parse path')
  }
}

const count = (dims: number[]) => dims.reduce((a, x) => a * x, 1)

/** Builds the batch's input tensors; a part whose values the byte decoder gives up on goes back (its rows stay zero). */
export function assemble(plan: AssemblePlan): {feeds: Feeds; errors: (PartError | null)[]} {
  const feeds: Feeds = {}
  const inner = plan.inputs.map((i) => count(i.inner))
  const data = plan.inputs.map((i, n) => allocFor(i.dtype, plan.padTo * inner[n]!))
  const errors: (PartError | null)[] = []
  let row = 0
  for (const part of plan.parts) {
    errors.push(part.feeds ? copyFeeds(part.feeds, plan, data, inner, row) : fillJson(part.json, plan, data, inner, row))
    row += part.rows
  }
  plan.inputs.forEach((info, n) => {
    const d = data[n]!
    // Padding rows repeat row 0, as the batcher's concatFeeds does.
    for (let r = row; r < plan.padTo; r++) d.copyWithin(r * inner[n]!, 0, inner[n]!)
    feeds[info.name] = {dtype: info.dtype, dims: [plan.padTo, ...info.inner], data: d}
  })
  return {feeds, errors}
}

type Typed = Exclude<Tensor['data'], string[]>

function copyFeeds(f: Feeds, plan: AssemblePlan, data: Typed[], inner: number[], row: number): null {
  plan.inputs.forEach((info, n) => data[n]!.set(f[info.name]!.data as never, row * inner[n]!))
  return null
}

function fillJson(j: ScannedBody, plan: AssemblePlan, data: Typed[], inner: number[], row: number): PartError | null {
  let ok = true
  plan.inputs.forEach((info, n) => {
    const t = j.tensors.find((x) => x.name === info.name)!
    if (ok) ok = fillScanned(j.body, t, info.dtype, data[n]!, row * inner[n]!)
  })
  if (ok) return null
  // Rows already written stay in the batch as zeros; nobody reads them back.
  return {status: 0, message: 'reparse', reparse: j.body}
}

/** The buffers a reply hands back: bodies written here, and bodies sent back for the main-thread path. */
export function replyTransfers(bodies: (Uint8Array | PartError | null)[] | undefined, errors: (PartError | null)[] | undefined): ArrayBuffer[] {
  const list: ArrayBuffer[] = []
  const add = (b: Uint8Array) => {
    if (b.buffer instanceof ArrayBuffer && !list.includes(b.buffer)) list.push(b.buffer)
  }
  for (const b of bodies ?? []) if (b instanceof Uint8Array) add(b)
  for (const e of errors ?? []) if (e?.reparse) add(e.reparse)
  return list
}

/** Below this many output values per request the answer is left to the main thread (microseconds there). */
export const WORKER_ENCODE_MIN = 2048

/** One request's place in the batch's outputs, and how its answer is written (null: the main thread's). */
export interface SplitItem {
  rows: number
  format: PredictFormat | null
}

/**
 * Writes the JSON answer of every request in `split` that has a format and enough values; the others
 * get null (their outputs go back as tensors). A row-format answer the outputs cannot make is a 400.
 */
export function encodeSplit(
  outputs: Record<string, Tensor>,
  split: SplitItem[],
  order: string[],
  whole: boolean,
  pool?: BodyPool,
): (Uint8Array | PartError | null)[] {
  const bodies: (Uint8Array | PartError | null)[] = []
  let off = 0
  for (const it of split) {
    // `whole`: one request and no padding, which gets the outputs as they are (as in the batcher).
    const slice = whole ? outputs : sliceRows(outputs, off, it.rows)
    off += it.rows
    if (it.format === null || valueCount(slice) < WORKER_ENCODE_MIN) {
      bodies.push(null)
      continue
    }
    try {
      bodies.push(encodePredictBytes(it.format, slice, order, pool))
    } catch (err) {
      bodies.push(err instanceof TfsoptError ? {status: err.status, message: err.message} : {status: 500, message: `internal error: ${errorMessage(err)}`})
    }
  }
  return bodies
}

function valueCount(outputs: Record<string, Tensor>): number {
  let n = 0
  for (const k in outputs) n += outputs[k]!.data.length
  return n
}

/** Rows [off, off + n) of every output, as views (no copy); the batcher splits batch answers with it too. */
export function sliceRows(outputs: Record<string, Tensor>, off: number, n: number): Record<string, Tensor> {
  const res: Record<string, Tensor> = {}
  for (const k in outputs) {
    const t = outputs[k]!
    const dims = t.dims.slice()
    let inner = 1
    for (let i = 1; i < dims.length; i++) inner *= dims[i]!
    dims[0] = n
    const data = Array.isArray(t.data) ? t.data.slice(off * inner, (off + n) * inner) : t.data.subarray(off * inner, (off + n) * inner)
    res[k] = {dtype: t.dtype, dims, data}
  }
  return res
}
