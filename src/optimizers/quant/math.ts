/**
 * Scale / zero-point maths, written to give bit-identical parameters to ONNX Runtime's
 * quantization tools (quant_utils.py: compute_scale_zp, get_qmin_qmax_for_qType, quantize_nparray)
 * and to tfjs-converter (quantization.py), so users can compare tfsopt's output with theirs.
 */
export type QType = 'int8' | 'uint8'

/** numpy's np.round: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x)
  // Math.round rounds .5 up; numpy rounds .5 to the even neighbour.
  // (+ 0 turns −0 into 0, as numpy prints and stores it.)
  if (Math.abs(x % 1) === 0.5) return 2 * Math.round(x / 2) + 0
  return r + 0
}

/** ORT's get_qmin_qmax_for_qType: reduce_range wins over symmetric, as in quant_utils.py. */
export function qRange(qtype: QType, opts: {reduceRange?: boolean; symmetric?: boolean} = {}): [number, number] {
  if (opts.reduceRange) return qtype === 'uint8' ? [0, 127] : [-64, 64]
  if (opts.symmetric && qtype === 'int8') return [-127, 127]
  return qtype === 'uint8' ? [0, 255] : [-128, 127]
}

/** The smallest normal float32 (np.finfo(np.float32).tiny): scales below it become 1. */
export const FLOAT32_TINY = 1.1754943508222875e-38

export interface ScaleZp {
  scale: number
  zeroPoint: number
}

/**
 * ORT's compute_scale_zp: the range is widened to include 0 (so 0 is exactly representable, which
 * zero padding and ReLU need), made symmetric (±max|x|) when asked, and a degenerate range gives
 * scale 1, zero point 0 (asymmetric) or the middle of the range (symmetric).
 */
export function computeScaleZp(rmin: number, rmax: number, qmin: number, qmax: number, symmetric = false): ScaleZp {
  let lo = Math.min(rmin, 0)
  let hi = Math.max(rmax, 0)
  if (symmetric) {
    const absmax = Math.max(Math.abs(lo), Math.abs(hi))
    lo = -absmax
    hi = absmax
  }
  let scale = (hi - lo) / (qmax - qmin)
  if (scale < FLOAT32_TINY) scale = 1
  if (symmetric) return {scale: Math.fround(scale), zeroPoint: roundHalfEven((qmin + qmax) / 2)}
  // ORT computes the zero point in float64 from the float64 scale, then stores the scale as float32.
  const zeroPoint = roundHalfEven(qmin - lo / scale)
  return {scale: Math.fround(scale), zeroPoint}
}

/** quantize_nparray: q = clip(round(x / scale) + zp, qmin, qmax), with the division in float32. */
export function quantizeValues(
  x: ArrayLike<number>,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
  out?: Int8Array | Uint8Array,
): Int8Array | Uint8Array {
  const res = out ?? (qmin < 0 ? new Int8Array(x.length) : new Uint8Array(x.length))
  const s = Math.fround(scale)
  for (let i = 0; i < x.length; i++) {
    const q = roundHalfEven(Math.fround(Math.fround(x[i]!) / s)) + zeroPoint
    res[i] = q < qmin ? qmin : Math.min(q, qmax)
  }
  return res
}

export function minMax(x: ArrayLike<number>): [number, number] {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  return x.length ? [lo, hi] : [0, 0]
}

export interface QuantizedTensor {
  data: Int8Array | Uint8Array
  scales: number[]
  zeroPoints: number[]
  axis?: number
  /** how many scales were raised above the measured ones (int32 bias safety) */
  raisedScales?: number
}

/** ORT's quantize_data for a weight: per tensor, or per channel along `axis` (each slice its own range). */
export function quantizeWeight(
  x: Float32Array,
  dims: number[],
  qtype: QType,
  opts: {symmetric: boolean; reduceRange?: boolean; axis?: number; scales?: number[]},
): QuantizedTensor {
  const [qmin, qmax] = qRange(qtype, {reduceRange: opts.reduceRange, symmetric: opts.symmetric})
  const out = qtype === 'int8' ? new Int8Array(x.length) : new Uint8Array(x.length)
  // given scales (raised for an int32 bias) replace the measured ones; symmetric, so the zero point stays
  const given = (c: number, lo: number, hi: number): ScaleZp => {
    const own = computeScaleZp(lo, hi, qmin, qmax, opts.symmetric)
    return opts.scales && opts.symmetric ? {scale: opts.scales[c]!, zeroPoint: own.zeroPoint} : own
  }
  if (opts.axis === undefined) {
    const [lo, hi] = minMax(x)
    const {scale, zeroPoint} = given(0, lo, hi)
    quantizeValues(x, scale, zeroPoint, qmin, qmax, out)
    return {data: out, scales: [scale], zeroPoints: [zeroPoint]}
  }
  const axis = opts.axis
  const channels = dims[axis]!
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1)
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1)
  const scales: number[] = []
  const zps: number[] = []
  const buf = new Float32Array(outer * inner)
  for (let c = 0; c < channels; c++) {
    let k = 0
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) buf[k++] = x[(o * channels + c) * inner + i]!
    const [lo, hi] = minMax(buf)
    const {scale, zeroPoint} = given(c, lo, hi)
    scales.push(scale)
    zps.push(zeroPoint)
    const q = quantizeValues(buf, scale, zeroPoint, qmin, qmax)
    k = 0
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) out[(o * channels + c) * inner + i] = q[k++]!
  }
  return {data: out, scales, zeroPoints: zps, axis}
}

/**
 * ORT's _adjust_weight_scale_for_int32_bias (onnxruntime PR #22020, in its quantiser since 1.20): a bias
 * is stored as int32 with scale input_scale·weight_scale, so a channel whose weights are all near zero
 * (dead or re-parameterised filters) gives a bias scale so small that bias/scale overflows int32 and
 * is clipped — that channel's output constant is then wrong. The weight scale is raised just enough
 * that the largest |bias| fits: smallest valid bias scale = 1.0001·2·|b|max / (int32 max − (int32 min + 1)).
 * Per tensor with one weight scale, per channel with one scale per bias element. Only meaningful for
 * symmetric weights (zero point 0). Returns the new weight scales, or undefined when none changes.
 */
export function int32BiasSafeWeightScales(bias: ArrayLike<number>, inputScale: number, weightScales: number[]): number[] | undefined {
  const qrange = 2147483647 - (-2147483648 + 1)
  const out = weightScales.slice()
  let changed = false
  for (let c = 0; c < weightScales.length; c++) {
    let absmax = 0
    if (weightScales.length === 1) for (let i = 0; i < bias.length; i++) absmax = Math.max(absmax, Math.abs(bias[i]!))
    else absmax = Math.abs(bias[c]!)
    const smallest = (1.0001 * 2 * absmax) / qrange
    const candidate = inputScale * weightScales[c]!
    if (candidate > 0 && candidate < smallest) {
      out[c] = Math.fround(weightScales[c]! * (smallest / candidate))
      changed = true
    }
  }
  return changed ? out : undefined
}

/** ORT quantizes a bias to int32 with scale = input_scale · weight_scale and zero point 0. */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: number[]): {data: Int32Array; scales: number[]} {
  const scales = weightScales.map((w) => Math.fround(inputScale * w))
  const data = new Int32Array(bias.length)
  for (let i = 0; i < bias.length; i++) {
    const s = scales.length === 1 ? scales[0]! : scales[i]!
    const q = roundHalfEven(bias[i]! / s)
    data[i] = Math.max(-2147483648, Math.min(2147483647, q))
  }
  return {data, scales}
}

// ---- tfjs-converter (tensorflowjs/quantization.py) ----

export interface TfjsAffine {
  scale: number
  min: number
  max: number
}

/**
 * _get_affine_quantization_range: scale = (max − min)/(2^bits − 1); when 0 lies in [min, max] the
 * minimum is nudged onto the grid so that 0 is exactly representable (min = round(min/scale)·scale).
 */
export function tfjsAffineRange(min: number, max: number, bits: 8 | 16): TfjsAffine {
  const quantMax = 2 ** bits - 1
  const scale = (max - min) / quantMax
  let nudgedMin = min
  if (min <= 0 && 0 <= max) nudgedMin = roundHalfEven(min / scale) * scale
  return {scale, min: nudgedMin, max: nudgedMin + quantMax * scale}
}

/** quantize_weights for uint8/uint16: q = round((clip(x, min, max) − min)/scale); constant → zeros, scale 1. */
export function tfjsQuantize(x: ArrayLike<number>, bits: 8 | 16): {data: Uint8Array | Uint16Array; scale: number; min: number} {
  const [lo, hi] = minMax(x)
  const data = bits === 8 ? new Uint8Array(x.length) : new Uint16Array(x.length)
  if (lo === hi) return {data, scale: 1, min: lo}
  const r = tfjsAffineRange(lo, hi, bits)
  for (let i = 0; i < x.length; i++) {
    const v = Math.min(Math.max(x[i]!, r.min), r.max)
    data[i] = roundHalfEven((v - r.min) / r.scale)
  }
  return {data, scale: r.scale, min: r.min}
}

// ---- onnxconverter-common float16.py ----

/** convert_np_to_float16 defaults: 0 < |x| < 1e-7 → ±1e-7, |x| > 1e4 → ±1e4 (strict bounds); 0, NaN, ±inf kept. */
export function clampForFloat16(x: number, minPositive = 1e-7, maxFinite = 1e4): number {
  if (x === 0 || !Number.isFinite(x)) return x
  const a = Math.abs(x)
  if (a < minPositive) return Math.sign(x) * minPositive
  if (a > maxFinite) return Math.sign(x) * maxFinite
  return x
}
