/**
 * Calibration statistics: running min/max, histograms of |x| (Percentile) and of x (Entropy), and the
 * three ways of turning them into an activation range (ORT's calibrate.py: MinMax, Percentile,
 * Entropy). Pure functions over numbers so they can be tested against hand-computed cases.
 */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy'

/** Histogram of |x| on [0, edgeMax] with `bins` equal bins, plus the signed extremes seen. */
export interface AbsHistogram {
  counts: Float64Array
  edgeMax: number
  min: number
  max: number
}

export function emptyHistogram(bins: number): AbsHistogram {
  return {counts: new Float64Array(bins), edgeMax: 0, min: Infinity, max: -Infinity}
}

/**
 * Adds a batch. When the batch's max |x| exceeds the current range the existing histogram is
 * re-binned onto a wider range (as ORT's merge_histogram does: each old bin's count moves to the new
 * bin holding its centre).
 */
export function addToHistogram(h: AbsHistogram, x: ArrayLike<number>): AbsHistogram {
  let amax = 0
  let lo = h.min
  let hi = h.max
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
    const a = Math.abs(v)
    if (a > amax) amax = a
  }
  const bins = h.counts.length
  let counts = h.counts
  let edgeMax = h.edgeMax
  if (amax > edgeMax) {
    const wider = new Float64Array(bins)
    if (edgeMax > 0) {
      for (let b = 0; b < bins; b++) {
        if (!counts[b]) continue
        const centre = ((b + 0.5) * edgeMax) / bins
        wider[Math.min(bins - 1, Math.floor((centre / amax) * bins))]! += counts[b]!
      }
    }
    counts = wider
    edgeMax = amax
  }
  if (edgeMax > 0) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!
      if (!Number.isFinite(v)) continue
      counts[Math.min(bins - 1, Math.floor((Math.abs(v) / edgeMax) * bins))]! += 1
    }
  } else counts[0]! += x.length
  return {counts, edgeMax, min: lo, max: hi}
}

/** First index where the cumulative distribution reaches q (np.searchsorted, side='left'). */
function searchCdf(counts: Float64Array, q: number): number {
  let total = 0
  for (const c of counts) total += c
  let acc = 0
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]!
    if (acc / total >= q) return i
  }
  return counts.length - 1
}

/**
 * Percentile: the threshold T is the upper edge of the bin where the CDF of |x| reaches p %, and
 * the range is [−T, T] intersected with the observed [min, max] (ORT clips to the seen extremes).
 */
export function percentileRange(h: AbsHistogram, percentile: number): [number, number] {
  if (h.edgeMax === 0) return [Math.min(h.min, 0), Math.max(h.max, 0)]
  const idx = searchCdf(h.counts, percentile / 100)
  const t = ((idx + 1) * h.edgeMax) / h.counts.length
  return [Math.max(h.min, -t), Math.min(h.max, t)]
}

/**
 * Histogram of x (signed) over the symmetric range [−edge, edge], as ONNX Runtime's HistogramCollector
 * keeps it for Entropy calibration (calibrate.py collect_value / merge_histogram): the first batch fixes
 * edge = max|x| and `bins` equal bins; a wider later batch adds whole bins of the same width on both
 * sides (so old counts never move). Bin `bins/2` starts at 0. To bound the search cost, once the
 * histogram holds more than 4× its nominal bins, adjacent pairs are merged (width doubles).
 */
export interface SignedHistogram {
  counts: Float64Array
  edge: number
  min: number
  max: number
  zeros: number
  nominal: number
}

export function emptySignedHistogram(bins = 2048): SignedHistogram {
  if (bins < 2 || bins % 2) throw new Error(`signed histogram needs an even number of bins, got ${bins}`)
  return {counts: new Float64Array(bins), edge: 0, min: Infinity, max: -Infinity, zeros: 0, nominal: bins}
}

function binInto(counts: Float64Array, edge: number, x: ArrayLike<number>): void {
  const n = counts.length
  const w = (2 * edge) / n
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (!Number.isFinite(v)) continue
    // np.histogram: bins are [a, b) except the last, which is closed
    counts[Math.max(0, Math.min(n - 1, Math.floor((v + edge) / w)))]! += 1
  }
}

export function addToSignedHistogram(h: SignedHistogram, x: ArrayLike<number>): SignedHistogram {
  let lo = h.min
  let hi = h.max
  let amax = 0
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
    if (Math.abs(v) > amax) amax = Math.abs(v)
  }
  let counts = h.counts
  let edge = h.edge
  let zeros = h.zeros
  if (amax === 0 && edge === 0) {
    // nothing but zeros so far: remember them until a batch gives the histogram a width
    for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) zeros++
    return {...h, min: lo, max: hi, zeros}
  }
  if (edge === 0) {
    counts = new Float64Array(h.nominal)
    edge = amax
    counts[counts.length / 2]! += zeros
    zeros = 0
  } else if (amax > edge) {
    const stride = (2 * edge) / counts.length
    const half = Math.floor((amax - edge) / stride) + 1
    const wider = new Float64Array(counts.length + 2 * half)
    wider.set(counts, half)
    counts = wider
    edge = edge + half * stride
    while (counts.length > 4 * h.nominal) {
      // merge pairs; pad one empty bin per side first when the half-length is odd, so 0 stays an edge
      if ((counts.length / 2) % 2) {
        const padded = new Float64Array(counts.length + 2)
        padded.set(counts, 1)
        edge += (2 * edge) / counts.length
        counts = padded
      }
      const merged = new Float64Array(counts.length / 2)
      for (let k = 0; k < merged.length; k++) merged[k] = counts[2 * k]! + counts[2 * k + 1]!
      counts = merged
    }
  }
  binInto(counts, edge, x)
  return {counts, edge, min: lo, max: hi, zeros, nominal: h.nominal}
}

/**
 * ORT's smooth_distribution: every empty bin gets eps, taken in equal shares from the non-empty ones.
 * undefined when all bins are empty, or when the non-empty ones cannot give eps away (ORT asserts).
 */
export function smoothDistribution(p: ArrayLike<number>, eps = 1e-4): Float64Array | undefined {
  let zeros = 0
  for (let i = 0; i < p.length; i++) if (p[i] === 0) zeros++
  const nonzeros = p.length - zeros
  if (!nonzeros) return undefined
  const eps1 = (eps * zeros) / nonzeros
  const out = new Float64Array(p.length)
  for (let i = 0; i < p.length; i++) {
    out[i] = p[i] === 0 ? eps : p[i]! - eps1
    if (out[i]! <= 0) return undefined
  }
  return out
}

export interface EntropyWindow {
  start: number
  end: number
  kl: number
}

/**
 * Entropy (KL-divergence) calibration over a signed histogram, as TensorRT describes it and as ONNX
 * Runtime (calibrate.py get_entropy_threshold, ported from MXNet) computes it. For every symmetric
 * window of bins [z − i, z + i] around the zero bin z = bins/2, i = quantBins/2 … z:
 *  - P: the window's counts with everything left of it added to its first bin and everything right of
 *    it to its last (the clipped outliers);
 *  - Q: the window's counts (without the outliers) merged into `quantBins` groups of ⌊len/quantBins⌋
 *    bins (the last group also takes the remainder), each group's sum spread evenly over the bins of the
 *    group where P is non-zero (0 where P is 0);
 *  - P and Q smoothed (empty bins get 1e-4), KL(P‖Q) of the normalised distributions.
 * The window with the smallest KL wins (first on ties). Returns bin indices: the range is
 * [edge(start), edge(end)) with end exclusive.
 * Deviations from ORT, which matter only in the remainder bins and for bins below one count: ORT does not
 * spread the last group over the remainder bins and keeps Q as int64 (truncating); here Q is float as in
 * MXNet/TensorRT, and KL is of normalised distributions (TensorRT, MXNet) where ORT sums rel_entr of raw
 * counts (which adds −log(1 − clipped share) to every candidate that clips).
 */
export function entropyWindow(counts: ArrayLike<number>, quantBins = 128): EntropyWindow {
  const bins = counts.length
  const z = Math.floor(bins / 2)
  const halfQ = Math.floor(quantBins / 2)
  let best: EntropyWindow = {start: 0, end: bins, kl: Infinity}
  if (z < halfQ) return best
  const cum = new Float64Array(bins + 1)
  for (let k = 0; k < bins; k++) cum[k + 1] = cum[k]! + counts[k]!
  for (let i = halfQ; i <= z; i++) {
    const start = z - i
    const end = Math.min(bins, z + i + 1)
    const len = end - start
    const p = new Float64Array(len)
    for (let k = 0; k < len; k++) p[k] = counts[start + k]!
    p[0]! += cum[start]!
    p[len - 1]! += cum[bins]! - cum[end]!
    const q = new Float64Array(len)
    const m = Math.floor(len / quantBins)
    for (let j = 0; j < quantBins; j++) {
      const s = j * m
      const e = j === quantBins - 1 ? len : s + m
      const sum = cum[start + e]! - cum[start + s]!
      let nz = 0
      for (let k = s; k < e; k++) if (p[k] !== 0) nz++
      if (nz) for (let k = s; k < e; k++) q[k] = p[k] !== 0 ? sum / nz : 0
    }
    const ps = smoothDistribution(p)
    const qs = smoothDistribution(q)
    const kl = ps && qs ? klDivergence(ps, qs) : Infinity
    if (kl < best.kl) best = {start, end, kl}
  }
  return best
}

/** KL(P‖Q) of two unnormalised histograms; bins where P is 0 contribute nothing, Q=0 with P>0 is +∞. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sp = 0
  let sq = 0
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!
    sq += q[i]!
  }
  if (sp === 0 || sq === 0) return Infinity
  let kl = 0
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp
    if (pi === 0) continue
    const qi = q[i]! / sq
    if (qi === 0) return Infinity
    kl += pi * Math.log(pi / qi)
  }
  return kl
}

/** The activation range Entropy calibration gives: the best window, within the observed [min, max]. */
export function entropyRange(h: SignedHistogram, quantBins = 128): [number, number] {
  if (h.edge === 0) return [Math.min(h.min, 0), Math.max(h.max, 0)]
  const w = entropyWindow(h.counts, quantBins)
  const width = (2 * h.edge) / h.counts.length
  const lo = -h.edge + w.start * width
  const hi = -h.edge + w.end * width
  return [Math.max(h.min, lo), Math.min(h.max, hi)]
}
