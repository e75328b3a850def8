/** POST :predict once the body is read: decode → cache → batcher → encode, timing the codec work. */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Feeds, Tensor} from '../runtime/types.js'
import {BINARY_TYPE, TENSORS_HEADER, decodeBinary, encodeBinary} from './binary-codec.js'
import {cacheKey, type ResponseCache} from './cache.js'
import {send} from './http-reply.js'
import {parseJsonBody} from './json-body.js'
import {DEFAULT_SIGNATURE, checkShapes, decodePredict, encodePredict, type PredictFormat} from './predict-codec.js'
import type {Servable} from './servable.js'

/** Answers one predict request; returns the HTTP status it answered. */
export async function handlePredict(cache: ResponseCache, s: Servable, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<number> {
  const vm = s.metrics
  const binaryIn = req.headers['content-type']?.startsWith(BINARY_TYPE) ?? false
  const accept = req.headers.accept
  const binaryOut = accept?.includes(BINARY_TYPE)
  let feeds: Feeds
  let format: PredictFormat = 'columnar'
  let signature = DEFAULT_SIGNATURE
  const t0 = performance.now()
  if (binaryIn) {
    feeds = decodeBinary(body, req.headers[TENSORS_HEADER] as string | undefined, s.info.inputs)
    checkShapes(feeds, s.info.inputs)
  } else {
    const d = decodePredict(parseJsonBody(body.toString('utf8')), s.info.inputs)
    feeds = d.feeds
    format = d.format
    signature = d.signature
  }
  const t1 = performance.now()
  vm.decodeSeconds.inc((t1 - t0) / 1000)
  let outputs: Record<string, Tensor> | undefined
  let key: string | undefined
  if (cache.enabled) {
    key = cacheKey(s.model, s.version, signature, feeds)
    outputs = cache.get(key)
    if (outputs) vm.cacheHits.inc()
    else vm.cacheMisses.inc()
  }
  if (!outputs) {
    vm.inflight.inc()
    try {
      outputs = await s.predict(feeds, signature)
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
    const out = encodePredict(format, outputs, s.outputOrder)
    vm.encodeSeconds.inc((performance.now() - t2) / 1000)
    send(res, 200, out)
  }
  return 200
}
