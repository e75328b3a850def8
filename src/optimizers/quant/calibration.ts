/**
 * Calibration statistics: running min/max and histograms of |x|, and the three ways of turning them
 * into an activation range (ORT's calibrate.py: MinMax, Percentile, Entropy). Pure functions over
 * numbers so they can be tested against hand-computed cases.
 */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy'

/** Histogram of |x| on [0, edgeMax] with `bins` equal bins, plus the signed extremes seen. */
export interface AbsHistogram {counts: Float64Array; edgeMax: number; min: number; max: number}

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
 * Entropy (KL-divergence) calibration in the TensorRT style ORT follows: for every candidate
 * threshold i ≥ quantBins, fold the clipped tail into the last bin (P), squeeze P into quantBins
 * levels and expand back (Q), and keep the threshold with the smallest KL(P‖Q).
 */
export function entropyThreshold(counts: ArrayLike<number>, edgeMax: number, quantBins = 128, maxCandidates = 128): number {
  const bins = counts.length
  if (edgeMax === 0) return 0
  if (bins <= quantBins) return edgeMax
  // Candidates every `stride` bins keep the search O(maxCandidates · bins) for 2048-bin histograms.
  const stride = Math.max(1, Math.floor((bins - quantBins) / maxCandidates))
  let bestKl = Infinity
  let bestI = bins
  for (let i = quantBins; i <= bins; i += stride) {
    const p = new Float64Array(i)
    for (let k = 0; k < i; k++) p[k] = counts[k]!
    for (let k = i; k < bins; k++) p[i - 1]! += counts[k]!
    const q = new Float64Array(i)
    const merge = i / quantBins
    for (let j = 0; j < quantBins; j++) {
      const start = Math.floor(j * merge)
      const end = j === quantBins - 1 ? i : Math.floor((j + 1) * merge)
      let sum = 0
      let nonzero = 0
      // Q is built from the histogram without the folded tail (TensorRT's rule), so clipping costs KL.
      for (let k = start; k < end; k++) {
        sum += counts[k]!
        if (counts[k]! !== 0) nonzero++
      }
      for (let k = start; k < end; k++) q[k] = counts[k]! !== 0 ? sum / nonzero : 0
    }
    const kl = klDivergence(p, q)
    if (kl < bestKl) {
      bestKl = kl
      bestI = i
    }
  }
  return (bestI * edgeMax) / bins
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

export function entropyRange(h: AbsHistogram, quantBins = 128): [number, number] {
  // The spike of exact zeros (ReLU outputs, padding, blank pixels) would dominate P and pull the
  // threshold down; it is flattened to its neighbour first, as NVIDIA's pytorch-quantization does.
  const counts = Float64Array.from(h.counts)
  if (counts.length > 1) counts[0] = counts[1]!
  const t = entropyThreshold(counts, h.edgeMax, quantBins)
  return [Math.max(h.min, -t), Math.min(h.max, t)]
}
