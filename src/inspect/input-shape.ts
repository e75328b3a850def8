/** `--input-shape name:1x3x48x192` parsing and resolving a model's dynamic dims to concrete sizes. */
import {TfsoptError} from '../errors.js'
import type {Dim, TensorInfo} from '../models/dtypes.js'

/** Dynamic non-batch dims default to this (a typical image side); say so and offer --input-shape. */
export const DEFAULT_DYNAMIC_DIM = 224

export function parseInputShapes(specs: string[] = []): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const spec of specs) {
    const i = spec.lastIndexOf(':')
    const name = i < 0 ? '*' : spec.slice(0, i)
    const dims = (i < 0 ? spec : spec.slice(i + 1)).split(/[x,]/).map((d) => Number(d.trim()))
    if (!dims.length || dims.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TfsoptError('E_USAGE', `--input-shape ${spec}: expected name:DIMxDIMx... with whole numbers, e.g. x:1x3x48x192`)
    }
    out[name] = dims
  }
  return out
}

export interface ResolvedShapes {
  shapes: Record<string, number[]>
  /** Batch size the shapes use (per-sample figures divide by it). */
  batch: number
  assumed: string[]
}

/**
 * Concrete shapes for a run at batch 1: given shapes win; otherwise the first input's first symbolic
 * dim is the batch (1, and every dim with the same symbol), other symbolic dims get DEFAULT_DYNAMIC_DIM.
 */
export function resolveShapes(inputs: TensorInfo[], given: Record<string, number[]> = {}): ResolvedShapes {
  const known = new Set(inputs.map((i) => i.name))
  for (const name of Object.keys(given)) {
    if (name !== '*' && !known.has(name)) throw new TfsoptError('E_USAGE', `--input-shape names ${name}, but the model's inputs are: ${[...known].join(', ')}`)
  }
  if (given['*'] && inputs.length !== 1)
    throw new TfsoptError('E_USAGE', `--input-shape without a name needs a single-input model; this one has ${inputs.length}: name them (name:1x3x224x224)`)
  const symbols = new Map<string, number>()
  const batchSym = inputs[0]?.shape?.[0]
  if (typeof batchSym === 'string') symbols.set(batchSym, 1)
  const shapes: Record<string, number[]> = {}
  const assumed: string[] = []
  let batch = 1
  inputs.forEach((info, k) => {
    const g = given[info.name] ?? (inputs.length === 1 ? given['*'] : undefined)
    const shape: Dim[] = info.shape ?? []
    if (g) {
      if (info.shape && g.length !== shape.length)
        throw new TfsoptError(
          'E_USAGE',
          `--input-shape for ${info.name} has ${g.length} dims; the model's input is rank ${shape.length} (${JSON.stringify(shape)})`,
        )
      shape.forEach((d, i) => {
        if (typeof d === 'string') symbols.set(d, g[i]!)
      })
      shapes[info.name] = g
      return
    }
    let guessed = false
    shapes[info.name] = shape.map((d, i) => {
      if (typeof d === 'number' && d >= 0) return d
      if (typeof d === 'string' && symbols.has(d)) return symbols.get(d)!
      const v = k === 0 && i === 0 ? 1 : DEFAULT_DYNAMIC_DIM
      if (typeof d === 'string') symbols.set(d, v)
      if (!(k === 0 && i === 0)) guessed = true
      return v
    })
    if (guessed)
      assumed.push(
        `${info.name}: dynamic dims set to ${DEFAULT_DYNAMIC_DIM} → [${shapes[info.name]!.join(',')}] (pass --input-shape ${info.name}:${shapes[info.name]!.join('x')} to choose)`,
      )
  })
  const first = inputs[0] ? shapes[inputs[0].name] : undefined
  if (first?.length && typeof inputs[0]!.shape?.[0] === 'number') batch = Math.max(1, first[0]!)
  else if (first?.length) batch = Math.max(1, first[0]!)
  return {shapes, batch, assumed}
}
