/**
 * Dynamic quantisation, the graph ONNX Runtime's quantize_dynamic writes: each activation feeding a
 * MatMul/Conv goes through DynamicQuantizeLinear (uint8, range measured per call), weights become
 * int8 symmetric initializers, the op becomes MatMulInteger/ConvInteger (int32 accumulation) followed
 * by Cast→float and a Mul by input_scale·weight_scale. Gemm with a constant B is written as the same
 * MatMulInteger chain plus an Add of C (ORT leaves Gemm in float; MLPs exported from PyTorch are
 * all Gemm, so tfsopt handles it).
 */
import type {ModelProto, NodeProto} from '../../models/onnx/proto.js'
import {attrInt} from '../../models/onnx/proto.js'
import {makeNode} from '../../models/onnx/builder.js'
import {makeTensor} from '../../models/onnx/tensor.js'
import {TfsoptError} from '../../errors.js'
import {ensureOpset, preparedCopy} from './graph.js'
import {pruneUnusedInitializers} from './fold-conv.js'
import {emptyPlan, type TransformPlan} from './plan.js'
import {quantizedWeight, selectionReason, weightSlot, type QuantOptions, type QuantWeight} from './weights.js'

export const DYNAMIC_OPS = ['MatMul', 'Gemm', 'Conv']

export function quantizeDynamic(input: ModelProto, opts: QuantOptions): {model: ModelProto; plan: TransformPlan} {
  if (opts.activationType !== 'uint8')
    throw new TfsoptError(
      'E_USAGE',
      '--mode dynamic quantises activations with DynamicQuantizeLinear, which only produces uint8; drop --activation-type int8 (or use --mode static)',
    )
  const {model, idx} = preparedCopy(input)
  const g = model.graph!
  const plan = emptyPlan()
  const inits = g.initializer!
  const wcache = new Map<string, QuantWeight>()
  const acache = new Map<string, {q: string; scale: string; zp: string}>()
  const out: NodeProto[] = []
  const symmetric = opts.weightType === 'int8'

  const quantAct = (x: string) => {
    let a = acache.get(x)
    if (!a) {
      a = {q: idx.unique(`${x}_quantized`), scale: idx.unique(`${x}_scale`), zp: idx.unique(`${x}_zero_point`)}
      out.push(makeNode('DynamicQuantizeLinear', [x], [a.q, a.scale, a.zp], {}, idx.unique(`${x}_QuantizeLinear`)))
      acache.set(x, a)
    }
    return a
  }

  for (const n of g.node ?? []) {
    if (!DYNAMIC_OPS.includes(n.opType!) || (n.domain ?? '') !== '') {
      out.push(n)
      continue
    }
    const slot = weightSlot(n, idx)
    const why = selectionReason(n, opts, DYNAMIC_OPS, n.input?.[1]) ?? (typeof slot === 'string' ? slot : undefined)
    if (why || typeof slot === 'string') {
      plan.skipped.push({node: n.name!, opType: n.opType!, reason: why!})
      out.push(n)
      continue
    }
    const isConv = n.opType === 'Conv'
    // ORT's ConvInteger kernel takes one filter zero point. Symmetric int8 filters have zero point 0 in
    // every channel, so per-channel scales work with the zero point left out (it defaults to 0) and the
    // scales applied after the integer conv, broadcast as [1, M, 1, …]; asymmetric uint8 stays per tensor.
    const perChannel = opts.perChannel && (!isConv || symmetric)
    const transpose = n.opType === 'Gemm' && attrInt(n, 'transB', 0) === 1
    const w = quantizedWeight(idx, inits, wcache, n.input![1]!, opts.weightType, {
      symmetric,
      reduceRange: opts.reduceRange,
      axis: perChannel ? (isConv ? 0 : 1) : undefined,
      transpose,
    })
    const a = quantAct(n.input![0]!)
    const y = n.output![0]!
    const intOut = idx.unique(`${y}_output_quantized`)
    let wScale = w.scale
    if (isConv) {
      const attrs = (n.attribute ?? []).filter((at) => ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'].includes(at.name!))
      const ci = makeNode('ConvInteger', perChannel ? [a.q, w.q, a.zp] : [a.q, w.q, a.zp, w.zp], [intOut], {}, idx.unique(`${n.name}_quant`))
      ci.attribute = attrs
      out.push(ci)
      if (perChannel) {
        const rank = idx.floatConst(n.input![1]!)!.dims.length
        wScale = idx.unique(`${w.scale}_reshaped`)
        inits.push(makeTensor(wScale, 'float32', [1, w.qt.scales.length, ...Array(rank - 2).fill(1)], Float32Array.from(w.qt.scales)))
      }
    } else out.push(makeNode('MatMulInteger', [a.q, w.q, a.zp, w.zp], [intOut], {}, idx.unique(`${n.name}_quant`)))
    const scales = idx.unique(`${y}_scales_mul`)
    const cast = idx.unique(`${y}_output_quantized_cast`)
    out.push(makeNode('Mul', [a.scale, wScale], [scales], {}, idx.unique(`${n.name}_scales_mul`)))
    out.push(makeNode('Cast', [intOut], [cast], {to: 1}, idx.unique(`${n.name}_output_quantized_cast`)))
    const bias = n.input![2]
    if (bias) {
      const scaled = idx.unique(`${y}_scaled`)
      out.push(makeNode('Mul', [cast, scales], [scaled], {}, idx.unique(`${n.name}_output_scale_mul`)))
      let b = bias
      if (isConv) {
        // Conv's bias is [M]; after the integer conv it must broadcast over [N, M, H, W].
        const bc = idx.floatConst(bias)!
        b = idx.unique(`${bias}_reshaped`)
        inits.push(makeTensor(b, 'float32', [1, bc.dims[0]!, 1, 1], bc.data))
      }
      out.push(makeNode('Add', [scaled, b], [y], {}, idx.unique(`${n.name}_bias_add`)))
    } else out.push(makeNode('Mul', [cast, scales], [y], {}, idx.unique(`${n.name}_output_scale_mul`)))
    plan.changed.push({
      node: n.name!,
      opType: n.opType!,
      weights: [n.input![1]!],
      how: `${isConv ? 'ConvInteger' : 'MatMulInteger'} u8×${opts.weightType === 'int8' ? 's8' : 'u8'}${perChannel ? ' per-channel' : ''}`,
    })
  }
  g.node = out
  if (plan.changed.length) ensureOpset(model, 11, 'dynamic quantisation (DynamicQuantizeLinear)')
  if (opts.perChannel && !symmetric && plan.changed.some((c) => c.opType === 'Conv'))
    plan.notes.push(
      'Conv weights stay per-tensor with --weight-type uint8: ConvInteger takes a single filter zero point, and asymmetric channels each need their own',
    )
  pruneUnusedInitializers(model)
  g.valueInfo = []
  return {model, plan}
}
