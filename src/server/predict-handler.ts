/** POST :predict once the body is read: decode → cache → batcher → encode, timing the codec work. */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Feeds, Tensor} from '../runtime/types.js'
import type {BodyLease} from './body-budget.js'
import type {BodyPool} from './body-pool.js'
import {BINARY_TYPE, TENSORS_HEADER, decodeBinary, encodeBinary} from './binary-codec.js'
import {cacheKey, type ResponseCache} from './cache.js'
import {send} from './http-reply.js'
import {parseJsonBody} from './json-body.js'
import {decodePredictBytes, type ScannedPredict} from './predict-bytes.js'
import {DEFAULT_SIGNATURE, checkShapes, decodePredict, type PredictFormat} from './predict-codec.js'
import {encodePredictBytes} from './predict-encode.js'
import type {Servable} from './servable.js'
import type {RequestTrace} from './access-log.js'
import {ReparseBody} from './worker-codec.js'
import {type JsonCodec, type Offloaded, WORKER_DECODE_MIN, scanForWorker} from './json-offload.js'

/**
 * What the JSON.parse path costs per body byte, beyond the body: the UTF-16 string (2 bytes per byte)
 * and a JS array of boxed numbers (~8 bytes per byte of numeric JSON). Large bodies that need it reserve
 * that much more of the in-flight budget, so memory stays bounded for every kind of body.
 */
const PARSE_TREE_FACTOR = 10
const CHARGE_FROM = 1 << 20

/** Answers one predict request; returns the HTTP status it answered. */

export async function handlePredict(
  cache: ResponseCache,
  s: Servable,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  lease?: BodyLease,
  codec: JsonCodec = 'worker',
  trace?: RequestTrace,
  pool?: BodyPool,
): Promise<number> {
  const vm = s.metrics
  const binaryIn = req.headers['content-type']?.startsWith(BINARY_TYPE) ?? false
  const accept = req.headers.accept
  const binaryOut = accept?.includes(BINARY_TYPE)
  const inWorker = codec === 'worker'
  let feeds: Feeds
  let format: PredictFormat = 'columnar'
  let signature = DEFAULT_SIGNATURE
  let off: Offloaded | undefined
  const t0 = performance.now()
  if (binaryIn) {
    feeds = decodeBinary(body, req.headers[TENSORS_HEADER] as string | undefined, s.info.inputs)
    pool?.give(body) // the tensors are copies
    checkShapes(feeds, s.info.inputs)
  } else {
    // A large body with the cache off: only its structure is scanned here, the worker parses the values.
    // (The cache needs the decoded tensors for its key before anything is queued.) But when every worker
    // is busy and nothing is queued, this request would only wait: the main thread parses it meanwhile,
    // so parsing overlaps inference (a pipeline) instead of adding to the worker's serial work. At most
    // one such body is parsed here per worker turn: the next one finds it queued and goes to a worker.
    let scanned: ScannedPredict | null | undefined
    if (inWorker && !cache.enabled && body.length >= WORKER_DECODE_MIN && !s.workersBusyQueueEmpty) {
      const sc = scanForWorker(body, s, pool?.owns(body))
      if ('scanned' in sc) off = sc
      else scanned = sc.scan
    }
    if (off) {
      feeds = off.feeds
      format = off.format
    } else
      try {
        ;({feeds, format, signature} = decodeOnMain(body, s, lease, scanned))
      } finally {
        // Decoded into arrays of their own (the JSON.parse path's string is a copy, and no error keeps a
        // view of the body): its buffer is free.
        pool?.give(body)
      }
  }
  const t1 = performance.now()
  vm.decodeSeconds.inc((t1 - t0) / 1000)
  let outputs: Record<string, Tensor> | undefined
  let written: Uint8Array | undefined
  let recycle: ((b: Uint8Array) => void) | undefined
  let key: string | undefined
  if (cache.enabled) {
    key = cacheKey(s.model, s.version, signature, feeds)
    outputs = cache.get(key)
    if (outputs) vm.cacheHits.inc()
    else vm.cacheMisses.inc()
    if (trace) trace.cache = outputs ? 'hit' : 'miss'
  }
  if (!outputs) {
    vm.inflight.inc()
    try {
      // The worker writes a JSON answer (when it is large enough to be worth it, worker-codec.ts).
      const encode = inWorker && !binaryOut ? format : undefined
      if (off || encode) {
        try {
          ;({outputs, body: written, recycle} = await s.predictJson(feeds, signature, {scanned: off?.scanned, encode}, trace))
        } catch (err) {
          if (!(err instanceof ReparseBody)) throw err
          // The worker's byte decoder gave up on a value: the main-thread path reads it, or words its 400.
          const back = Buffer.from(err.body.buffer, err.body.byteOffset, err.body.byteLength)
          const t = performance.now()
          ;({feeds, format, signature} = decodeOnMain(back, s, lease))
          vm.decodeSeconds.inc((performance.now() - t) / 1000)
          ;({outputs, body: written, recycle} = await s.predictJson(feeds, signature, {encode: encode && format}, trace))
        }
      } else outputs = await s.predict(feeds, signature, trace)
    } finally {
      vm.inflight.dec()
    }
    if (key) cache.set(key, s.model, s.version, outputs)
  }
  const t2 = performance.now()
  if (binaryOut) {
    const {header, body: out} = encodeBinary(outputs, s.outputOrder)
    vm.encodeSeconds.inc((performance.now() - t2) / 1000)
    send(res, 200, out, BINARY_TYPE, {[TENSORS_HEADER]: header})
  } else {
    const out = written ? Buffer.from(written.buffer, written.byteOffset, written.byteLength) : encodePredictBytes(format, outputs, s.outputOrder, pool)
    vm.encodeSeconds.inc((performance.now() - t2) / 1000)
    send(res, 200, out)
    // The answer's buffer is recycled once it is with the kernel ('finish'; never on a connection that
    // died first: then it is simply garbage): back to the worker that wrote it, or to this pool.
    const back = written ? recycle : pool?.owns(out) ? (b: Uint8Array) => pool.give(b) : undefined
    if (back) res.once('finish', () => back(out))
  }
  return 200
}

/** A JSON body decoded here: bytes straight into typed arrays; the JSON.parse path takes (and words the errors of) the rest. */
function decodeOnMain(
  body: Buffer,
  s: Servable,
  lease: BodyLease | undefined,
  scanned?: ScannedPredict | null,
): {feeds: Feeds; format: PredictFormat; signature: string} {
  const d = decodePredictBytes(body, s.info.inputs, scanned)
  if (d) return d
  if (lease && body.length >= CHARGE_FROM && !lease.grow(PARSE_TREE_FACTOR * body.length)) throw lease.refuse()
  return decodePredict(parseJsonBody(body.toString('utf8')), s.info.inputs)
}
