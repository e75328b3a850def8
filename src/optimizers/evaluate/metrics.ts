/** Fidelity and accuracy of an optimised model's outputs against the original's / the labels. */

export interface Fidelity {
  /** max |a − b| over every output element. */
  maxAbsError: number
  /** mean |a − b| / mean |a|: the average error relative to the average magnitude (stable near 0). */
  meanRelativeError: number
  /** cosine similarity of the flattened outputs (1 = same direction). */
  cosineSimilarity: number
  /** share of samples whose arg-max (last axis) agrees; null when outputs are not per-sample scores. */
  top1Agreement: number | null
  elements: number
}

export function fidelity(ref: ArrayLike<number>, got: ArrayLike<number>, rows?: number): Fidelity {
  if (ref.length !== got.length) throw new Error(`outputs differ in size: ${ref.length} vs ${got.length}`)
  let maxAbs = 0
  let sumAbsErr = 0
  let sumAbs = 0
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < ref.length; i++) {
    const a = ref[i]!
    const b = got[i]!
    const e = Math.abs(a - b)
    if (e > maxAbs || Number.isNaN(e)) maxAbs = Number.isNaN(e) ? Infinity : e
    sumAbsErr += e
    sumAbs += Math.abs(a)
    dot += a * b
    na += a * a
    nb += b * b
  }
  const cos = na === 0 && nb === 0 ? 1 : na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
  let top1: number | null = null
  if (rows && rows > 0 && ref.length % rows === 0 && ref.length / rows > 1) {
    const a = argmaxRows(ref, rows)
    const b = argmaxRows(got, rows)
    let same = 0
    for (let r = 0; r < rows; r++) if (a[r] === b[r]) same++
    top1 = same / rows
  }
  return {
    maxAbsError: maxAbs,
    meanRelativeError: sumAbs === 0 ? (sumAbsErr === 0 ? 0 : Infinity) : sumAbsErr / sumAbs,
    cosineSimilarity: cos,
    top1Agreement: top1,
    elements: ref.length,
  }
}

/** Arg-max of each of `rows` equal rows (the class scores of each sample). */
export function argmaxRows(x: ArrayLike<number>, rows: number): number[] {
  const w = x.length / rows
  const out: number[] = []
  for (let r = 0; r < rows; r++) {
    let best = 0
    for (let j = 1; j < w; j++) if (x[r * w + j]! > x[r * w + best]!) best = j
    out.push(best)
  }
  return out
}

/** Top-1 accuracy in [0, 1]. */
export function accuracy(pred: number[], labels: number[]): number {
  const n = Math.min(pred.length, labels.length)
  let ok = 0
  for (let i = 0; i < n; i++) if (pred[i] === labels[i]) ok++
  return n ? ok / n : 0
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Mean squared error, the per-node damage measure of the accuracy-aware search. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2
  return a.length ? s / a.length : 0
}
