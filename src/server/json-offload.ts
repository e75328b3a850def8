/**
 * Main-thread side of the worker JSON codec: decides whether a predict body's values are parsed in the
 * inference worker, and scans it for that (structure and shapes only). The body goes to the worker only
 * when nothing but its values can still fail: a well-formed structure, the default signature, shapes the
 * model takes and a batch that fits. Everything else takes the main-thread path, which words every 400
 * exactly as before; the worker words the rest (a refused value) with the same reference path.
 */
import type {Feeds} from '../runtime/types.js'
import {DEFAULT_SIGNATURE, type PredictFormat} from './predict-codec.js'
import {allocFor, type ScannedPredict, scanPredictBytes, shapeFits} from './predict-bytes.js'
import type {Servable} from './servable.js'
import type {ScannedBody} from './worker-codec.js'

/** `--json-codec`: where JSON predict bodies are parsed and answers written. */
export type JsonCodec = 'worker' | 'main'

/**
 * Smaller bodies are parsed on the main thread: their parse costs about what the hand-off would, and
 * the scan alone is a good part of it.
 */
export const WORKER_DECODE_MIN = 64 * 1024

export interface Offloaded {
  /** dtypes and shapes only (empty data): what validation and batching look at. */
  feeds: Feeds
  format: PredictFormat
  scanned: ScannedBody
}

/**
 * The body scanned for the worker, or, where the main-thread path must take it, the scan it can reuse
 * (`scan`; null: the scan bailed, so that path goes straight to JSON.parse): a body the model refuses
 * (a 60 MB one of the wrong shape, say) is then scanned once, not twice.
 */
export function scanForWorker(body: Buffer, s: Servable, pooled = false): Offloaded | {scan: ScannedPredict | null} {
  const sc = scanPredictBytes(body, s.info.inputs) ?? null
  if (!sc) return {scan: null}
  if (sc.signature !== undefined && sc.signature !== '' && sc.signature !== DEFAULT_SIGNATURE) return {scan: sc}
  const feeds: Feeds = {}
  for (const {info, dims} of sc.plan) {
    if (!shapeFits(dims, info)) return {scan: sc}
    feeds[info.name] = {dtype: info.dtype, dims, data: allocFor(info.dtype, 0)}
  }
  try {
    s.rowsOf(feeds)
  } catch {
    return {scan: sc}
  }
  // The body moves to the worker (transferred, not copied): it needs an ArrayBuffer of its own (a
  // recycled one, `pooled`, may be larger than the body: it goes along whole, and the pool makes another).
  const own = body.byteOffset === 0 && (pooled || body.byteLength === body.buffer.byteLength) && body.buffer instanceof ArrayBuffer
  const bytes = own ? body : new Uint8Array(body)
  return {
    feeds,
    format: sc.format,
    scanned: {body: bytes, tensors: sc.plan.map((p) => ({name: p.info.name, start: p.span.start, end: p.span.end}))},
  }
}
