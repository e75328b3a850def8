/**
 * Inference worker thread: one session per worker, so onnxruntime's blocking run never stalls the
 * HTTP thread and several workers really run in parallel. Messages:
 *   in:  {type:'run', id, feeds, outputs?} | {type:'crash-next'}
 *   out: {type:'ready', info} | {type:'load-error', message} | {type:'result', id, outputs, computeSeconds} | {type:'error', id, message}
 */
import {parentPort, workerData} from 'node:worker_threads'
import {openSession} from '../runtime/load.js'
import type {Device, Feeds, InferenceSession, Tensor} from '../runtime/types.js'
import type {Provider} from '../runtime/devices.js'
import type {Placement} from '../runtime/placement.js'
import type {DetectedModel} from '../models/detect.js'
import type {WorkerModelInfo} from './types.js'
import {errorMessage} from '../errors.js'
import {syntheticFeeds} from '../runtime/synthetic-feeds.js'

export interface WorkerInit {
  model: DetectedModel
  backend: 'auto' | 'onnx' | 'tfjs'
  device: Device
  /** The ONNX provider the main thread chose (probed once there, not per worker). */
  provider?: Provider
  intraOpThreads?: number
  interOpThreads?: number
  allowSpinning?: boolean
  warmup: number
  injectLatencyMs: number
  injectLatencyDist?: 'fixed' | 'exp'
}

const init = workerData as WorkerInit
const port = parentPort!
const sleeper = new Int32Array(new SharedArrayBuffer(4))
let crashNext = false

function transferables(outputs: Record<string, Tensor>): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>()
  for (const t of Object.values(outputs)) if (!Array.isArray(t.data) && t.data.buffer instanceof ArrayBuffer) seen.add(t.data.buffer)
  return [...seen]
}

async function main(): Promise<void> {
  let session: InferenceSession
  let placement: Placement | undefined
  // On a GPU provider the first warm-up run is profiled: where each node ran and what the copies cost.
  const profile = init.provider !== undefined && init.provider !== 'cpu' && init.warmup > 0
  try {
    session = await openSession(init.model, {
      backend: init.backend,
      device: init.device,
      provider: init.provider,
      profile,
      intraOpThreads: init.intraOpThreads,
      interOpThreads: init.interOpThreads,
      allowSpinning: init.allowSpinning,
    })
    for (let i = 0; i < init.warmup; i++) {
      try {
        if (i === 0 && session.profileOnce && profile) placement = await session.profileOnce(syntheticFeeds(session.inputs))
        else await session.run(syntheticFeeds(session.inputs))
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
    placement,
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
      // With --inject-latency-dist exp the sleep is exponential with that mean (inverse transform), so
      // sleep-bound replicas follow the exponential-service models without spending CPU.
      if (init.injectLatencyMs > 0) Atomics.wait(sleeper, 0, 0, injectedSleepMs(init.injectLatencyMs, init.injectLatencyDist))
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

function injectedSleepMs(meanMs: number, dist: 'fixed' | 'exp' | undefined): number {
  if (dist !== 'exp') return meanMs
  return -meanMs * Math.log(1 - Math.random())
}
