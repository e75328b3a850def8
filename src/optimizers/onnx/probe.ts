/**
 * Runs a model with chosen intermediate tensors exposed as extra graph outputs (declared without a
 * type: onnxruntime fills it in), feeding each result to a callback. Calibration ranges, float16
 * tensor types and the accuracy-aware per-node errors all come from here.
 */
import {encodeModel, newValueInfo, type ModelProto} from '../../models/onnx/proto.js'
import {ort} from '../../runtime/onnx-session.js'
import {TfsoptError} from '../../errors.js'
import type {Feeds} from '../../runtime/types.js'
import {cloneModel, GraphIndex} from './graph.js'

export type TensorSink = (name: string, dtype: string, data: ArrayLike<number>, dims: readonly number[]) => void

export async function probeTensors(model: ModelProto, batches: Feeds[], tensors: string[] | 'all', sink: TensorSink, threads = 1): Promise<void> {
  const m = cloneModel(model)
  const g = m.graph!
  const have = new Set((g.output ?? []).map((o) => o.name!))
  const idx = new GraphIndex(m)
  const list = tensors === 'all' ? [...(g.node ?? []).flatMap((n) => n.output ?? []), ...idx.graphInputs] : tensors
  const names: string[] = []
  for (const t of list) {
    if (!t || idx.isConst(t)) continue
    names.push(t)
    if (!have.has(t) && !idx.graphInputs.has(t)) {
      g.output!.push(newValueInfo({name: t}))
      have.add(t)
    }
  }
  const O = ort()
  let session: Awaited<ReturnType<typeof O.InferenceSession.create>>
  try {
    session = await O.InferenceSession.create(Buffer.from(encodeModel(m)), {intraOpNumThreads: threads, graphOptimizationLevel: 'basic'})
  } catch (err) {
    throw new TfsoptError('E_RUNTIME', `onnxruntime could not load the model for calibration: ${(err as Error).message.split('\n')[0]}`)
  }
  try {
    const outNames = names.filter((n) => !idx.graphInputs.has(n))
    for (const feeds of batches) {
      const ortFeeds: Record<string, InstanceType<typeof O.Tensor>> = {}
      for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new O.Tensor(v.dtype as never, v.data as never, v.dims)
      let res: Awaited<ReturnType<typeof session.run>> = {}
      try {
        // only graph inputs wanted (a one-op model's input is its only activation): nothing to run
        if (outNames.length) res = await session.run(ortFeeds, outNames)
      } catch (err) {
        throw new TfsoptError('E_DATA', `the calibration data does not fit the model: ${(err as Error).message.split('\n')[0]}`)
      }
      for (const n of names) {
        if (idx.graphInputs.has(n)) {
          const f = feeds[n]
          if (f) sink(n, f.dtype, f.data as ArrayLike<number>, f.dims)
          continue
        }
        const t = res[n]
        if (t) sink(n, t.type, t.type === 'int64' || t.type === 'string' ? [] : (t.data as ArrayLike<number>), t.dims)
      }
    }
  } finally {
    await session.release()
  }
}

/**
 * Every float32 tensor (graph inputs and node outputs) in a run on `feeds`, with the largest |x| seen:
 * float16 conversion needs both the types and how far the values reach (float16 overflows at 65504).
 */
export async function floatTensorRanges(model: ModelProto, feeds: Feeds, threads = 1): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  await probeTensors(
    model,
    [feeds],
    'all',
    (name, dtype, data) => {
      if (dtype !== 'float32') return
      let m = out.get(name) ?? 0
      for (let i = 0; i < data.length; i++) {
        const a = Math.abs(data[i]!)
        if (a > m) m = a
      }
      out.set(name, m)
    },
    threads,
  )
  return out
}
