/**
 * FLOPs of a TF.js layers (Keras) model from its layer configs alone: output shapes are propagated
 * from the InputLayer's batch_input_shape through each layer's config (channels_last), and
 * Conv2D / DepthwiseConv2D / SeparableConv2D / Conv2DTranspose / Dense are counted.
 */
import {addCount, convMacs, convTransposeMacs, matmulMacs, prod} from './macs.js'
import type {ComputeEstimate} from './types.js'

type Shape = (number | null)[]
interface LayerSpec {
  name: string
  class_name: string
  config: Record<string, unknown>
  inbound_nodes?: unknown[]
}

const pair = (v: unknown, dflt: number): [number, number] => {
  if (v === undefined || v === null) return [dflt, dflt]
  if (typeof v === 'number') return [v, v]
  const a = v as number[]
  return [a[0] ?? dflt, a[1] ?? a[0] ?? dflt]
}

/** Keras conv_output_length. */
function convOut(len: number | null, k: number, stride: number, padding: string, dilation = 1): number | null {
  if (len === null) return null
  const dk = (k - 1) * dilation + 1
  return padding === 'same' ? Math.ceil(len / stride) : Math.floor((len - dk) / stride) + 1
}

/** Layers whose output shape is their (first) input's. */
const SAME_SHAPE = new Set([
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Dropout',
  'SpatialDropout2D',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'Softmax',
  'ThresholdedReLU',
  'LayerNormalization',
  'Rescaling',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'Add',
  'Multiply',
  'Subtract',
  'Average',
  'Maximum',
  'Minimum',
  'Masking',
])

interface Step {
  out: Shape | null
  macs?: number
}

function step(l: LayerSpec, ins: (Shape | null)[]): Step {
  const c = l.config
  const x = ins[0] ?? null
  if (c.data_format === 'channels_first') return {out: null}
  if (l.class_name === 'InputLayer') return {out: (c.batch_input_shape ?? c.batchInputShape) as Shape}
  if (!x) return {out: null}
  if (SAME_SHAPE.has(l.class_name)) return {out: x}
  const [h, w, ch] = [x[1] ?? null, x[2] ?? null, x[x.length - 1] ?? null]
  switch (l.class_name) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D': {
      const [kh, kw] = pair(c.kernel_size, 1)
      const [sh, sw] = pair(c.strides, 1)
      const [dh, dw] = pair(c.dilation_rate, 1)
      const pad = String(c.padding ?? 'valid')
      const oh = convOut(h, kh, sh, pad, dh)
      const ow = convOut(w, kw, sw, pad, dw)
      const dm = Number(c.depth_multiplier ?? 1)
      const outC = l.class_name === 'DepthwiseConv2D' ? (ch === null ? null : ch * dm) : Number(c.filters)
      const out: Shape = [x[0] ?? null, oh, ow, outC]
      if (oh === null || ow === null || ch === null || outC === null) return {out}
      const spatial = oh * ow
      if (l.class_name === 'Conv2D') return {out, macs: convMacs([spatial, outC], ch / Number(c.groups ?? 1), [kh, kw])}
      const depthwise = convMacs([spatial, ch * dm], 1, [kh, kw])
      return {out, macs: l.class_name === 'DepthwiseConv2D' ? depthwise : depthwise + matmulMacs([spatial, outC], ch * dm)}
    }
    case 'Conv2DTranspose': {
      const [kh, kw] = pair(c.kernel_size, 1)
      const [sh, sw] = pair(c.strides, 1)
      const pad = String(c.padding ?? 'valid')
      const len = (n: number | null, k: number, s: number) => (n === null ? null : pad === 'same' ? n * s : n * s + Math.max(k - s, 0))
      const out: Shape = [x[0] ?? null, len(h, kh, sh), len(w, kw, sw), Number(c.filters)]
      return {out, macs: h === null || w === null || ch === null ? undefined : convTransposeMacs([h, w, ch], Number(c.filters), [kh, kw])}
    }
    case 'Dense': {
      const units = Number(c.units)
      const out: Shape = [...x.slice(0, -1), units]
      const inner = x.slice(1, -1)
      return {out, macs: ch === null || inner.some((d) => d === null) ? undefined : matmulMacs([...(inner as number[]), units], ch)}
    }
    case 'ZeroPadding2D': {
      const p = c.padding
      const [[t, b], [le, r]] =
        typeof p === 'number'
          ? [
              [p, p],
              [p, p],
            ]
          : Array.isArray((p as unknown[])[0])
            ? (p as [[number, number], [number, number]])
            : [
                [(p as number[])[0]!, (p as number[])[0]!],
                [(p as number[])[1]!, (p as number[])[1]!],
              ]
      return {out: [x[0] ?? null, h === null ? null : h + t + b, w === null ? null : w + le + r, ch]}
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const [kh, kw] = pair(c.pool_size, 2)
      const [sh, sw] = c.strides === null || c.strides === undefined ? [kh, kw] : pair(c.strides, 1)
      const pad = String(c.padding ?? 'valid')
      return {out: [x[0] ?? null, convOut(h, kh, sh, pad), convOut(w, kw, sw, pad), ch]}
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      return {out: c.keepdims ? [x[0] ?? null, 1, 1, ch] : [x[0] ?? null, ch]}
    case 'Flatten': {
      const rest = x.slice(1)
      return {out: [x[0] ?? null, rest.some((d) => d === null) ? null : prod(rest as number[])]}
    }
    case 'Reshape': {
      const target = [...(c.target_shape as number[])]
      const total = x.slice(1).some((d) => d === null) ? null : prod(x.slice(1) as number[])
      const i = target.indexOf(-1)
      if (i >= 0) target[i] = total === null ? -1 : total / prod(target.filter((d) => d !== -1))
      return {out: [x[0] ?? null, ...target.map((d) => (d < 0 ? null : d))]}
    }
    case 'Concatenate': {
      const axis = Number(c.axis ?? -1)
      const r = x.length
      const a = axis < 0 ? r + axis : axis
      const out = [...x]
      out[a] = ins.some((s) => !s || s[a] === null) ? null : ins.reduce((s, t) => s + (t![a] as number), 0)
      return {out}
    }
    default:
      return {out: null}
  }
}

function modelConfig(topology: unknown): {className: string; layers: LayerSpec[]; inputLayers?: unknown[][]} | undefined {
  const t = topology as Record<string, unknown>
  const m = (t.model_config ?? t) as {class_name?: string; config?: unknown}
  if (!m.class_name) return undefined
  const cfg = m.config as {layers?: LayerSpec[]; input_layers?: unknown[][]} | LayerSpec[]
  const layers = Array.isArray(cfg) ? cfg : cfg?.layers
  if (!layers) return undefined
  return {className: m.class_name, layers, inputLayers: Array.isArray(cfg) ? undefined : cfg.input_layers}
}

export function kerasLayerHistogram(topology: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  for (const l of modelConfig(topology)?.layers ?? []) out[l.class_name] = (out[l.class_name] ?? 0) + 1
  return out
}

export function kerasCompute(topology: unknown, given: Record<string, number[]> = {}): ComputeEstimate {
  const mc = modelConfig(topology)
  if (!mc) throw new Error('modelTopology has no Keras model config')
  const shapes = new Map<string, Shape | null>()
  const byOp: Record<string, {count: number; macs: number}> = {}
  const perNode: ComputeEstimate['nodes'] = []
  const notes: string[] = []
  const inputShapes: Record<string, number[]> = {}
  const unknown = new Set<string>()
  let macs = 0
  const sequential = mc.className === 'Sequential'
  let prev: Shape | null = null
  mc.layers.forEach((l, i) => {
    let ins: (Shape | null)[]
    if (sequential) {
      const bis = (l.config.batch_input_shape ?? l.config.batchInputShape) as Shape | undefined
      ins = [i === 0 && bis ? bis : prev]
      if (i === 0 && bis) {
        const fixed = given[l.name] ?? given['*']
        ins = [fixed ?? (bis.map((d) => (d === null ? 1 : d)) as Shape)]
        if (k0Dynamic(bis)) notes.push('Sequential input has dynamic non-batch dims; pass --input-shape')
        inputShapes[l.name] = ins[0] as number[]
      }
    } else if (l.class_name === 'InputLayer') {
      const bis = (l.config.batch_input_shape ?? l.config.batchInputShape) as Shape
      const fixed = given[l.name] ?? (Object.keys(given).length === 1 ? given['*'] : undefined)
      const s = (fixed ?? bis.map((d, k) => (d === null && k === 0 ? 1 : d))) as Shape
      shapes.set(l.name, s)
      if (s.every((d) => d !== null)) inputShapes[l.name] = s as number[]
      else notes.push(`input ${l.name} has dynamic dims [${bis.map(String)}]; pass --input-shape ${l.name}:1x...`)
      return
    } else {
      const nodes = (l.inbound_nodes ?? []) as unknown[][]
      const first = (nodes[0] ?? []) as unknown[]
      // Keras 2: [[name, nodeIndex, tensorIndex, kwargs], ...]; tfjs may wrap in {args}.
      ins = first.map((e) => shapes.get((Array.isArray(e) ? e[0] : (e as {name?: string}).name) as string) ?? null)
      if (nodes.length > 1) notes.push(`layer ${l.name} is shared (${nodes.length} calls); only its first call is counted`)
    }
    if (l.class_name === 'Sequential' || l.class_name === 'Model' || l.class_name === 'Functional') notes.push(`nested model ${l.name} is not counted`)
    const s = step(l, ins)
    if (s.out === null && l.class_name !== 'InputLayer') unknown.add(l.class_name)
    shapes.set(l.name, s.out)
    prev = s.out
    if (s.macs !== undefined) {
      addCount(byOp, l.class_name, s.macs)
      perNode.push({name: l.name, op: l.class_name, macs: s.macs})
      macs += s.macs
    } else if (['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'Dense'].includes(l.class_name)) {
      notes.push(`${l.class_name} ${l.name}: input shape unknown, not counted`)
    }
  })
  if (unknown.size) notes.push(`output shape unknown after layer type(s) ${[...unknown].join(', ')}; layers downstream of them are not counted`)
  const present = new Set(mc.layers.map((l) => l.class_name))
  return {
    macs,
    flops: 2 * macs,
    counted: byOp,
    nodes: perNode,
    notCounted: [...present].filter((c) => !byOp[c]).sort(),
    inputShapes,
    method: 'shapes propagated from the Keras layer configs (channels_last), no model run',
    notes,
  }
}

const k0Dynamic = (s: Shape) => s.slice(1).some((d) => d === null)
