// Runs ONNX bytes in onnxruntime with plain feeds: the tests that compare two models' outputs share it.
import {ort} from '../../src/runtime/onnx-session.js'

export type Feeds = Record<string, {type: string; data: Float32Array | BigInt64Array; dims: number[]}>
export type Results = Record<string, {dims: readonly number[]; data: unknown}>

/** Deterministic values in [−1, 1) (an LCG; tests only need repeatable, varied inputs). */
export function seeded(n: number, seed = 1): Float32Array {
  let s = seed
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0
    out[i] = (s / 2 ** 32) * 2 - 1
  }
  return out
}

export async function runBytes(bytes: Uint8Array, feeds: Feeds): Promise<Results> {
  const O = ort()
  const s = await O.InferenceSession.create(bytes, {executionProviders: ['cpu']})
  try {
    const f: Record<string, InstanceType<typeof O.Tensor>> = {}
    for (const [k, v] of Object.entries(feeds)) f[k] = new O.Tensor(v.type as 'float32', v.data as Float32Array, v.dims)
    const res = await s.run(f)
    return Object.fromEntries(Object.entries(res).map(([k, t]) => [k, {dims: t.dims, data: t.data}]))
  } finally {
    await s.release()
  }
}
