/**
 * TF.js weight quantisation written exactly as tfjs-converter writes it (write_weights.py): the
 * selected float32 weights are stored uint8/uint16 (affine, zero nudged onto the grid) or float16,
 * with a `quantization` entry per weight in the manifest, shards of at most 4 MB in entry order.
 * Stock @tensorflow/tfjs dequantises them at load; nothing of tfsopt is needed to read the result.
 */
import {readModelJson, readShards, storedElementBytes, elementsOf, type ModelJson, type WeightEntry} from '../../models/tfjs/artifacts.js'
import {float32ToFloat16Bits} from '../../models/onnx/tensor.js'
import {TfsoptError} from '../../errors.js'
import {tfjsQuantize} from '../quant/math.js'
import {selects, type NameFilter} from '../select.js'
import {emptyPlan, type TransformPlan} from '../onnx/plan.js'

export type TfjsQuantDType = 'uint8' | 'uint16' | 'float16'
export const SHARD_BYTES = 4 * 1024 * 1024

export interface TfjsQuantResult {
  json: ModelJson
  shards: {path: string; bytes: Uint8Array}[]
  plan: TransformPlan
}

export function quantizeTfjs(modelJsonPath: string, dtype: TfjsQuantDType, opts: {filter: NameFilter; keepFloat?: Set<string>}): TfjsQuantResult {
  const json = readModelJson(modelJsonPath)
  const data = readShards(modelJsonPath, json)
  const plan = emptyPlan()
  const entries: WeightEntry[] = []
  const chunks: Uint8Array[] = []
  let offset = 0
  for (const group of json.weightsManifest) {
    for (const e of group.weights) {
      const size = elementsOf(e.shape) * storedElementBytes(e)
      if (offset + size > data.length)
        throw new TfsoptError('E_CORRUPT', `weight ${e.name} runs past the end of the shards; the shards do not match model.json`)
      const stored = data.subarray(offset, offset + size)
      offset += size
      const why = e.quantization
        ? `already quantised (${e.quantization.dtype})`
        : e.dtype !== 'float32'
          ? `dtype ${e.dtype}: only float32 weights are quantised`
          : opts.keepFloat?.has(e.name)
            ? 'kept in float32 by the accuracy-aware fallback'
            : !selects(opts.filter, e.name)
              ? 'not selected by --include/--exclude'
              : undefined
      if (why) {
        plan.skipped.push({node: e.name, opType: 'weight', reason: why})
        entries.push(e)
        chunks.push(stored)
        continue
      }
      const values = new Float32Array(Uint8Array.prototype.slice.call(stored).buffer, 0, elementsOf(e.shape))
      if (dtype === 'float16') {
        const bits = Uint16Array.from(values, float32ToFloat16Bits)
        entries.push({name: e.name, shape: e.shape, dtype: 'float32', quantization: {dtype: 'float16', original_dtype: 'float32'}})
        chunks.push(new Uint8Array(bits.buffer))
      } else {
        const q = tfjsQuantize(values, dtype === 'uint8' ? 8 : 16)
        entries.push({name: e.name, shape: e.shape, dtype: 'float32', quantization: {dtype, min: q.min, scale: q.scale, original_dtype: 'float32'}})
        chunks.push(new Uint8Array(q.data.buffer))
      }
      plan.changed.push({node: e.name, opType: 'weight', weights: [e.name], how: dtype === 'float16' ? 'float16 cast' : `${dtype} affine`})
    }
  }
  const all = Buffer.concat(chunks)
  const n = Math.max(1, Math.ceil(all.length / SHARD_BYTES))
  const shards = Array.from({length: n}, (_, i) => ({path: `group1-shard${i + 1}of${n}.bin`, bytes: all.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)}))
  const out: ModelJson = {...json, weightsManifest: [{paths: shards.map((s) => s.path), weights: entries}]}
  return {json: out, shards, plan}
}
