/** Pruning masks (TF Model Optimization Toolkit rules), pure over numbers. */

/** k-th largest |w| such that keeping |w| ≥ threshold keeps round(n·(1 − s)) values (ties kept). */
export function magnitudeThreshold(values: ArrayLike<number>[], sparsity: number): number {
  let n = 0
  for (const v of values) n += v.length
  const keep = Math.round(n * (1 - sparsity))
  if (keep >= n) return 0
  if (keep <= 0) return Infinity
  const abs = new Float32Array(n)
  let o = 0
  for (const v of values) for (let i = 0; i < v.length; i++) abs[o++] = Math.abs(v[i]!)
  abs.sort()
  return abs[n - keep]!
}

/** Zeroes |w| < threshold in place; returns how many are now zero. */
export function applyThreshold(w: Float32Array, threshold: number): number {
  let zeros = 0
  for (let i = 0; i < w.length; i++) {
    if (Math.abs(w[i]!) < threshold) w[i] = 0
    if (w[i] === 0) zeros++
  }
  return zeros
}

/**
 * N:M sparsity: along `axis` (the input dimension), in every group of m consecutive weights keep the
 * n of largest magnitude (earlier index wins ties). A trailing partial group keeps ⌈n·len/m⌉.
 */
export function nmPrune(w: Float32Array, dims: number[], axis: number, n: number, m: number): void {
  const len = dims[axis]!
  const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1)
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1)
  const idx: number[] = []
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < stride; i++) {
      for (let g = 0; g < len; g += m) {
        idx.length = 0
        const end = Math.min(len, g + m)
        for (let c = g; c < end; c++) idx.push(o * len * stride + c * stride + i)
        const keep = end - g === m ? n : Math.ceil((n * (end - g)) / m)
        const order = [...idx].sort((a, b) => Math.abs(w[b]!) - Math.abs(w[a]!) || a - b)
        for (const k of order.slice(keep)) w[k] = 0
      }
    }
  }
}

/** L2 norm of each slice along `axis` (output neurons / filters). */
export function channelNorms(w: Float32Array, dims: number[], axis: number): number[] {
  const len = dims[axis]!
  const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1)
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1)
  const norms = new Array<number>(len).fill(0)
  for (let o = 0; o < outer; o++) for (let c = 0; c < len; c++) for (let i = 0; i < stride; i++) norms[c]! += w[o * len * stride + c * stride + i]! ** 2
  return norms.map(Math.sqrt)
}

/** Indices to keep: the largest-norm ⌈len·(1 − s)⌉ (at least one), in their original order. */
export function keepByNorm(norms: number[], sparsity: number): number[] {
  const keep = Math.max(1, Math.round(norms.length * (1 - sparsity)))
  const order = norms.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  return order
    .slice(0, keep)
    .map((x) => x[1])
    .sort((a, b) => a - b)
}

/** The sub-tensor with only `keep` indices along `axis`. */
export function takeAlong(w: Float32Array, dims: number[], axis: number, keep: number[]): {data: Float32Array; dims: number[]} {
  const len = dims[axis]!
  const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1)
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1)
  const out = new Float32Array(outer * keep.length * stride)
  let k = 0
  for (let o = 0; o < outer; o++) for (const c of keep) for (let i = 0; i < stride; i++) out[k++] = w[o * len * stride + c * stride + i]!
  const nd = [...dims]
  nd[axis] = keep.length
  return {data: out, dims: nd}
}

export function sparsityOf(w: ArrayLike<number>): number {
  let z = 0
  for (let i = 0; i < w.length; i++) if (w[i] === 0) z++
  return w.length ? z / w.length : 0
}
