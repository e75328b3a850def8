/**
 * Inference worker thread: one session per worker, so onnxruntime's blocking run never stalls the
 * HTTP thread and several workers really run in parallel. Messages:
 *   in:  {type:'run', id, feeds | assemble, outputs?, split?, whole?} | {type:'crash-next'}
 *   out: {type:'ready', info} | {type:'load-error', message}
 *      | {type:'result', id, outputs, computeSeconds, decodeSeconds?, encodeSeconds?, errors?, bodies?} | {type:'error', id, message}
 * With `assemble` the worker builds the batch's inputs itself, parsing scanned JSON bodies into them;
 * with `split` it writes each request's JSON answer (worker-codec.ts). Both are timed as the worker's
 * decode and encode busy seconds, apart from the inference seconds.
 */
import {parentPort, workerData} from 'node:worker_threads'
import {performance as perfHooks} from 'node:perf_hooks'
import {openSession} from '../runtime/load.js'
import type {Device, Feeds, InferenceSession, Tensor} from '../runtime/types.js'
import type {Provider} from '../runtime/devices.js'
import type {Placement} from '../runtime/placement.js'
import type {DetectedModel} from '../models/detect.js'
import type {WorkerModelInfo} from './types.js'
import {errorMessage, TfsoptError} from '../errors.js'
import {restoreThisThread} from './load-priority.js'
import {BodyPool} from './body-pool.js'
import {syntheticFeeds} from '../runtime/synthetic-feeds.js'
import {parseJsonBody} from './json-body.js'
import {decodePredict} from './predict-codec.js'
import type {WarmupRequest} from './warmup-file.js'
import {type AssemblePlan, type PartError, type SplitItem, assemble, encodeSplit, replyTransfers} from './worker-codec.js'

interface RunMessage {
  type: string
  id?: number
  feeds?: Feeds
  assemble?: AssemblePlan
  outputs?: string[]
  split?: SplitItem[]
  whole?: boolean
  /** type 'recycle': an answer buffer coming back (worker-pool.ts). */
  buffer?: ArrayBuffer
}

/** Answer buffers held idle per worker at most (body-pool.ts trims them after a quiet spell anyway). */
const ANSWER_POOL_IDLE = 16 << 20

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
  /** Warm-up requests shipped with the version (warmup-file.ts); when given they replace the synthetic runs. */
  warmupRequests?: WarmupRequest[]
  injectLatencyMs: number
  injectLatencyDist?: 'fixed' | 'exp'
  /** --load-nice for a version loaded while others serve: worker-main.ts lowers the thread, `ready` restores it. */
  loadNice?: number
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
    // The version's own warm-up requests, every one, before it is AVAILABLE; a failing one fails the load
    // (as in TF Serving), saying which request it was.
    for (const r of init.warmupRequests ?? []) {
      try {
        const feeds = 'json' in r ? decodePredict(parseJsonBody(r.json), session.inputs).feeds : r.feeds
        await session.run(feeds)
      } catch (err) {
        throw new Error(`warm-up request ${r.where} failed: ${errorMessage(err)}`)
      }
    }
    const synthetic = init.warmupRequests?.length ? 0 : init.warmup
    for (let i = 0; i < synthetic; i++) {
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
    // The code travels too: a wrong key or a tampered encrypted model must surface as itself (errors.ts).
    port.postMessage({type: 'load-error', message: errorMessage(err), code: err instanceof TfsoptError ? err.code : undefined})
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
    runtimeBytes: session.memoryBytes?.(),
  }
  const priorityProblem = restoreThisThread()
  if (priorityProblem) port.postMessage({type: 'log', message: priorityProblem})
  port.postMessage({type: 'ready', info})
  // Batches run one at a time, in the order they arrive: the pool may send one ahead, and it must not
  // start (nor be timed) before the one in front of it has finished.
  let chain: Promise<void> = Promise.resolve()
  // The JSON answers written here, recycled: the main thread sends each buffer back once its answer
  // is sent (worker-pool.ts' recycle).
  const answers = new BodyPool(ANSWER_POOL_IDLE)
  port.on('message', (msg: RunMessage) => {
    if (msg.type === 'recycle' && msg.buffer) {
      answers.adopt(msg.buffer)
      return
    }
    if (msg.type === 'crash-next') {
      crashNext = true
      return
    }
    if (msg.type !== 'run') return
    chain = chain.then(() => runOne(msg))
  })
  // The worker's whole event-loop busy time (session.run, message (de)serialisation, the codec), reported
  // with each result as the delta since the last: what the worker station really costs per batch, for
  // calibrating queueing models (docs/QUEUEING.md §Station model). The reply's own serialisation falls
  // into the next delta; over many batches the total is exact.
  let loopActive = perfHooks.eventLoopUtilization().active
  const loopSeconds = () => {
    const now = perfHooks.eventLoopUtilization().active
    const d = (now - loopActive) / 1000
    loopActive = now
    return d
  }
  const order = session.outputs.map((o) => o.name)
  const runOne = async (msg: RunMessage): Promise<void> => {
    if (crashNext) {
      // Test hook (TFSOPT_TEST_HOOKS): die with this batch in flight, as a native crash would.
      process.exit(70)
    }
    try {
      let feeds = msg.feeds!
      let errors: (PartError | null)[] | undefined
      let decodeSeconds = 0
      if (msg.assemble) {
        const t = performance.now()
        ;({feeds, errors} = assemble(msg.assemble))
        decodeSeconds = (performance.now() - t) / 1000
        // Every request refused: nothing is left to run.
        if (errors.every((e) => e !== null)) {
          port.postMessage({type: 'result', id: msg.id, outputs: {}, computeSeconds: 0, decodeSeconds, errors}, replyTransfers(undefined, errors))
          return
        }
      }
      const t0 = performance.now()
      const outputs = await session.run(feeds, msg.outputs)
      // --inject-latency-ms: a documented, deterministic slowdown, blocking this thread like real compute.
      // With --inject-latency-dist exp the sleep is exponential with that mean (inverse transform), so
      // sleep-bound replicas follow the exponential-service models without spending CPU.
      if (init.injectLatencyMs > 0) Atomics.wait(sleeper, 0, 0, injectedSleepMs(init.injectLatencyMs, init.injectLatencyDist))
      const computeSeconds = (performance.now() - t0) / 1000
      let bodies: (Uint8Array | PartError | null)[] | undefined
      let encodeSeconds = 0
      if (msg.split) {
        const t = performance.now()
        bodies = encodeSplit(outputs, msg.split, order, msg.whole ?? false, answers)
        encodeSeconds = (performance.now() - t) / 1000
      }
      const reply = {type: 'result', id: msg.id, outputs, computeSeconds, decodeSeconds, encodeSeconds, errors, bodies, loopSeconds: loopSeconds()}
      const list = [...transferables(outputs), ...replyTransfers(bodies, errors)]
      try {
        port.postMessage(reply, list)
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
