/**
 * Inference worker thread: one session per worker, so onnxruntime's blocking run never stalls the
 * HTTP thread and several workers really run in parallel. Messages:
 *   in:  {type:'run', id, feeds, outputs?} | {type:'crash-next'}
 *   out: {type:'ready', info} | {type:'load-error', message} | {type:'result', id, outputs, computeSeconds} | {type:'error', id, message}
 */
import {parentPort, workerData} from 'node:worker_threads'
import {openSession} from '../runtime/load.js'
import type {Feeds, InferenceSession, Tensor} from '../runtime/types.js'
import type {DetectedModel} from '../models/detect.js'
import type {WorkerModelInfo} from './types.js'
import {errorMessage} from '../errors.js'

export interface WorkerInit {
  model: DetectedModel
  backend: 'auto' | 'onnx' | 'tfjs'
  device: 'auto' | 'cpu' | 'gpu'
  intraOpThreads?: number
  interOpThreads?: number
  allowSpinning?: boolean
  warmup: number
  injectLatencyMs: number
}

const init = workerData as WorkerInit
const port = parentPort!
const sleeper = new Int32Array(new SharedArrayBuffer(4))
let crashNext = false

/** Synthetic zeros (batch 1 where a dimension is free) used to warm a fresh session up. */
function warmupFeeds(session: InferenceSession): Feeds {
  const feeds: Feeds = {}
  for (const i of session.inputs) {
    const dims = (i.shape ?? [1]).map((d) => (typeof d === 'number' && d > 0 ? d : 1))
    const n = dims.reduce((a, b) => a * b, 1)
    const data: Tensor['data'] =
      i.dtype === 'string'
        ? new Array<string>(n).fill('')
        : i.dtype === 'int64'
          ? new BigInt64Array(n)
          : i.dtype === 'uint64'
            ? new BigUint64Array(n)
            : i.dtype === 'float64'
              ? new Float64Array(n)
              : i.dtype === 'int32'
                ? new Int32Array(n)
                : i.dtype === 'uint8' || i.dtype === 'bool'
                  ? new Uint8Array(n)
                  : i.dtype === 'int8'
                    ? new Int8Array(n)
                    : i.dtype === 'int16'
                      ? new Int16Array(n)
                      : i.dtype === 'uint16' || i.dtype === 'float16'
                        ? new Uint16Array(n)
                        : i.dtype === 'uint32'
                          ? new Uint32Array(n)
                          : new Float32Array(n)
    feeds[i.name] = {dtype: i.dtype, dims, data}
  }
  return feeds
}

function transferables(outputs: Record<string, Tensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>()
  for (const t of Object.values(outputs)) if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) seen.add(t.data.buffer)
  return [...seen]
}

async function main(): Promise<void> {
  let session: InferenceSession
  try {
    session = await openSession(init.model, {
      backend: init.backend,
      device: init.device,
      intraOpThreads: init.intraOpThreads,
      interOpThreads: init.interOpThreads,
      allowSpinning: init.allowSpinning,
    })
    for (let i = 0; i < init.warmup; i++) {
      try {
        await session.run(warmupFeeds(session))
      } catch (err) {
        // Warmup with synthetic inputs may not suit every model (e.g. data-dependent shapes): say so, serve anyway.
        port.postMessage({type: 'log', message: `warmup run skipped: ${errorMessage(err)}`})
        break
      }
    }
  } catch (err) {
    port.postMessage({type: 'load-error', message: errorMessage(err)})
    return
  }
  const info: WorkerModelInfo = {
    inputs: session.inputs,
    outputs: session.outputs,
    backend: session.backend,
    engine: session.engine,
    device: session.device,
    deviceNote: session.deviceNote,
  }
  port.postMessage({type: 'ready', info})
  // Batches run one at a time, in the order they arrive: the pool may send one ahead, and it must not
  // start (nor be timed) before the one in front of it has finished.
  let chain: Promise<void> = Promise.resolve()
  port.on('message', (msg: {type: string; id?: number; feeds?: Feeds; outputs?: string[]}) => {
    if (msg.type === 'crash-next') {
      crashNext = true
      return
    }
    if (msg.type !== 'run') return
    chain = chain.then(() => runOne(msg))
  })
  const runOne = async (msg: {id?: number; feeds?: Feeds; outputs?: string[]}): Promise<void> => {
    if (crashNext) {
      // Test hook (TFSOPT_TEST_HOOKS): die with this batch in flight, as a native crash would.
      process.exit(70)
    }
    const t0 = performance.now()
    try {
      const outputs = await session.run(msg.feeds!, msg.outputs)
      // --inject-latency-ms: a documented, deterministic slowdown, blocking this thread like real compute.
      if (init.injectLatencyMs > 0) Atomics.wait(sleeper, 0, 0, init.injectLatencyMs)
      const computeSeconds = (performance.now() - t0) / 1000
      const reply = {type: 'result', id: msg.id, outputs, computeSeconds}
      try {
        port.postMessage(reply, transferables(outputs))
      } catch {
        port.postMessage(reply) // a runtime-owned buffer that cannot be detached: copy instead
      }
    } catch (err) {
      port.postMessage({type: 'error', id: msg.id, message: errorMessage(err)})
    }
  }
}

void main()
