// The quantisation / calibration / pruning / fidelity maths against hand-computed values.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {
  computeScaleZp,
  qRange,
  quantizeValues,
  roundHalfEven,
  tfjsAffineRange,
  tfjsQuantize,
  clampForFloat16,
  quantizeWeight,
  quantizeBias,
  int32BiasSafeWeightScales,
} from '../../src/optimizers/quant/math.js'
import {
  addToHistogram,
  emptyHistogram,
  percentileRange,
  entropyWindow,
  entropyRange,
  klDivergence,
  emptySignedHistogram,
  addToSignedHistogram,
  smoothDistribution,
} from '../../src/optimizers/quant/calibration.js'
import {magnitudeThreshold, applyThreshold, nmPrune, keepByNorm, channelNorms, takeAlong} from '../../src/optimizers/prune/masks.js'
import {fidelity, accuracy} from '../../src/optimizers/evaluate/metrics.js'
import {globToRegExp, selects} from '../../src/optimizers/select.js'

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`)

test('roundHalfEven rounds .5 to the even neighbour like numpy', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6].map(roundHalfEven), [0, 2, 2, 0, -2, 2, -3])
})

test('qRange follows ORT: symmetric int8 −127..127, reduce_range wins', () => {
  assert.deepEqual(qRange('int8'), [-128, 127])
  assert.deepEqual(qRange('int8', {symmetric: true}), [-127, 127])
  assert.deepEqual(qRange('int8', {reduceRange: true, symmetric: true}), [-64, 64])
  assert.deepEqual(qRange('uint8'), [0, 255])
  assert.deepEqual(qRange('uint8', {reduceRange: true}), [0, 127])
})

test('computeScaleZp: asymmetric uint8 on [−1, 3]: scale 4/255, zp round(63.75) = 64', () => {
  const r = computeScaleZp(-1, 3, 0, 255)
  close(r.scale, 4 / 255)
  assert.equal(r.zeroPoint, 64)
})

test('computeScaleZp widens the range to include 0', () => {
  const r = computeScaleZp(0.5, 2, 0, 255)
  close(r.scale, 2 / 255)
  assert.equal(r.zeroPoint, 0)
  const n = computeScaleZp(-3, -1, 0, 255)
  close(n.scale, 3 / 255)
  assert.equal(n.zeroPoint, 255)
})

test('computeScaleZp: symmetric int8 uses ±max|x| and zero point 0', () => {
  const r = computeScaleZp(-0.5, 2, -127, 127, true)
  close(r.scale, 4 / 254)
  assert.equal(r.zeroPoint, 0)
})

test('computeScaleZp: int8 on [−1, 1] puts zp at round(−0.5) = 0 (half to even)', () => {
  const r = computeScaleZp(-1, 1, -128, 127)
  close(r.scale, 2 / 255)
  assert.equal(r.zeroPoint, 0)
})

test('computeScaleZp: constant zero tensor gets scale 1', () => {
  assert.deepEqual(computeScaleZp(0, 0, 0, 255), {scale: 1, zeroPoint: 0})
  assert.deepEqual(computeScaleZp(0, 0, -128, 127), {scale: 1, zeroPoint: -128})
})

test('quantizeValues: round(x/scale) + zp, clipped', () => {
  const s = Math.fround(4 / 255)
  assert.deepEqual([...quantizeValues([-1, 0, 0.5, 3, 10], s, 64, 0, 255)], [0, 64, 96, 255, 255])
})

test('quantizeWeight per channel: one symmetric scale per output column', () => {
  // [K=2, N=2]: column 0 = [1, -2], column 1 = [0.5, 0.25]
  const q = quantizeWeight(Float32Array.from([1, 0.5, -2, 0.25]), [2, 2], 'int8', {symmetric: true, axis: 1})
  close(q.scales[0]!, 4 / 254)
  close(q.scales[1]!, 1 / 254)
  assert.deepEqual([...q.data], [64, 127, -127, 64])
  assert.deepEqual(q.zeroPoints, [0, 0])
})

test('quantizeBias: int32 with scale input_scale·weight_scale', () => {
  const b = quantizeBias(Float32Array.from([0.1, -0.3]), 0.01, [0.5])
  close(b.scales[0]!, 0.005)
  assert.deepEqual([...b.data], [20, -60])
})

test('int32BiasSafeWeightScales: the case of onnxruntime PR #22020 (input scale 0.5, weight scale 7.843e-10, bias [5, −4.5])', () => {
  // bias_scale 0.5 · 7.843e-10 = 3.92e-10 puts 5 at 1.27e10, far outside int32. The smallest valid bias
  // scale is 1.0001 · 2 · 5 / (2^31 − 1 − (−2^31 + 1)) = 10.001 / 4294967294 = 2.3285393e-9 (by hand), so
  // the weight scale becomes 2.3285393e-9 / 0.5 = 4.6570785e-9 and the bias fits.
  const s = int32BiasSafeWeightScales([5, -4.5], 0.5, [7.843e-10])!
  close(s[0]!, 4.6570785e-9, 1e-6)
  const b = quantizeBias(Float32Array.from([5, -4.5]), 0.5, s)
  assert.ok(b.data[0]! < 2147483647 && b.data[0]! > 2147000000, `${b.data[0]}`)
  close(b.data[1]! / b.data[0]!, -0.9, 1e-6)
  // per channel: only the channel that overflows moves; a healthy pair is left alone
  const pc = int32BiasSafeWeightScales([1, 1], 0.1, [1e-12, 0.01])!
  close(pc[0]!, (1.0001 * 2) / 4294967294 / 0.1, 1e-6)
  assert.equal(pc[1], 0.01)
  assert.equal(int32BiasSafeWeightScales([0.1, -0.3], 0.01, [0.5]), undefined)
})

test('quantizeWeight with given scales keeps the symmetric zero point and uses them', () => {
  const q = quantizeWeight(Float32Array.from([1e-30, -2e-30]), [2], 'int8', {symmetric: true, scales: [1e-3]})
  assert.deepEqual(q.scales, [1e-3])
  assert.deepEqual([...q.data], [0, 0])
  assert.deepEqual(q.zeroPoints, [0])
})

test('tfjs affine range nudges the minimum so 0 is on the grid', () => {
  const r = tfjsAffineRange(-0.3, 0.7, 8)
  close(r.scale, 1 / 255)
  close(r.min, -76 / 255) // −0.3·255 = −76.5 → −76 (half to even)
  close(r.max, -76 / 255 + 1)
  const q = tfjsQuantize([-0.3, 0, 0.7, 0.2], 8)
  close(q.scale, 1 / 255)
  close(q.min, -76 / 255)
  assert.equal(q.data[0], 0) // clipped to the nudged minimum
  assert.equal(q.data[1], 76) // 0 maps exactly
  assert.equal(q.data[3], 127) // (0.2 + 76/255)·255 = 127
})

test('tfjs: a constant tensor is all zeros with scale 1 and min = the value', () => {
  const q = tfjsQuantize([2.5, 2.5, 2.5], 8)
  assert.deepEqual([...q.data], [0, 0, 0])
  assert.equal(q.scale, 1)
  assert.equal(q.min, 2.5)
})

test('float16 clamping as onnxconverter-common', () => {
  assert.deepEqual(
    [1e-8, -1e-8, 2e4, -2e4, 0, 3.5, Infinity].map((x) => clampForFloat16(x)),
    [1e-7, -1e-7, 1e4, -1e4, 0, 3.5, Infinity],
  )
  assert.ok(Number.isNaN(clampForFloat16(NaN)))
})

test('percentile range: 0..99 in 100 bins, 90th percentile ends at the edge of bin 89', () => {
  const h = addToHistogram(
    emptyHistogram(100),
    Array.from({length: 100}, (_, i) => i),
  )
  const [lo, hi] = percentileRange(h, 90)
  assert.equal(lo, 0)
  close(hi, 90 * 0.99)
})

test('histograms re-bin when a later batch is wider', () => {
  let h = addToHistogram(emptyHistogram(4), [0.1, 0.9])
  h = addToHistogram(h, [-2])
  assert.equal(h.edgeMax, 2)
  // old bins' centres (0.1125, 0.7875) land in bins 0 and 1 of [0, 2]; −2 in the last
  assert.deepEqual([...h.counts], [1, 1, 0, 1])
  assert.equal(h.min, -2)
})

test('KL divergence of [1,1] vs [1,3] = 0.5 ln 2 + 0.5 ln(2/3)', () => {
  close(klDivergence([1, 1], [1, 3]), 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3))
})

// Entropy calibration, worked by hand on 8 bins over [−4, 4) (width 1, zero bin z = 4) with 2 quantised
// levels: windows [z−i, z+i] for i = 1..4, i.e. bins 3..5, 2..6, 1..7, 0..7.
// counts [1,1,4,4,4,4,1,1]. For i = 2 (bins 2..6 = [4,4,4,4,1]): P folds the outliers in, [1+1+4, 4, 4, 4,
// 1+1] = [6,4,4,4,2]; Q merges the window's own counts into 2 groups of ⌊5/2⌋ = 2 bins (the last group takes
// the remainder): [4+4 | 4+4+1] → spread over non-zero bins: [4,4 | 3,3,3]. KL(P‖Q) of the normalised
// histograms is ≈ 0.0336, below i = 1 (P [10,4,6], Q [4,4,4]: ≈ 0.0690), i = 3 (P [2,4,4,4,4,1,1],
// Q [3,3,3,2.5,2.5,2.5,2.5]: ≈ 0.1196) and i = 4 (P = counts, Q all 2.5: ≈ 0.1927). No bin is empty, so
// smoothing changes nothing. The optimum clips to [−2, 3).
const klOf = (p: number[], q: number[]) => {
  const sp = p.reduce((a, b) => a + b),
    sq = q.reduce((a, b) => a + b)
  return p.reduce((s, pi, k) => s + (pi / sp) * Math.log(pi / sp / (q[k]! / sq)), 0)
}

test('entropy (hand-worked): 8 bins, 2 levels, the window [−2, 3) has the least KL', () => {
  const counts = [1, 1, 4, 4, 4, 4, 1, 1]
  const w = entropyWindow(counts, 2)
  assert.deepEqual([w.start, w.end], [2, 7])
  close(w.kl, klOf([6, 4, 4, 4, 2], [4, 4, 3, 3, 3]), 1e-9)
  close(klOf([6, 4, 4, 4, 2], [4, 4, 3, 3, 3]), 0.033647, 1e-4)
  assert.ok(
    klOf([10, 4, 6], [4, 4, 4]) > w.kl && klOf([2, 4, 4, 4, 4, 1, 1], [3, 3, 3, 2.5, 2.5, 2.5, 2.5]) > w.kl && klOf(counts, new Array(8).fill(2.5)) > w.kl,
  )
  // the same data as values: edge = max|x| = 4, so the bins are exactly those above; range [−2, 3)
  const xs = [-4, -2.5, -1.5, -1.5, -1.5, -1.5, -0.5, -0.5, -0.5, -0.5, 0.5, 0.5, 0.5, 0.5, 1.5, 1.5, 1.5, 1.5, 2.5, 4]
  const h = addToSignedHistogram(emptySignedHistogram(8), xs)
  assert.deepEqual([...h.counts], counts)
  assert.deepEqual(entropyRange(h, 2), [-2, 3])
})

test('entropy keeps the full range for a uniform histogram and clips a thin tail', () => {
  // uniform: at the full window every group of 16 bins is flat, so Q = P exactly and KL = 0
  const u = entropyWindow(new Array(2048).fill(10), 128)
  assert.deepEqual([u.start, u.end], [0, 2048])
  close(u.kl, 0, 1e-12)
  // a peak around 0 with a long thin tail (one count per bin) on both sides: the optimum clips the tail
  const peaked = Array.from({length: 2048}, (_, k) => Math.round(1e6 * Math.exp(-Math.abs(k - 1024) / 20)) + 1)
  const t = entropyWindow(peaked, 128)
  assert.ok(t.end - t.start < 1024, `window ${t.start}..${t.end} should cut the thin tail`)
})

test('signed histogram grows by whole bins of the same width; smoothing moves eps into empty bins', () => {
  let h = addToSignedHistogram(emptySignedHistogram(4), [-1, -0.2, 0.3, 0.9])
  assert.deepEqual([...h.counts], [1, 1, 1, 1])
  h = addToSignedHistogram(h, [1.6])
  // width 0.5: (1.6 − 1)/0.5 → 2 more bins per side, edge 2
  assert.equal(h.edge, 2)
  assert.deepEqual([...h.counts], [0, 0, 1, 1, 1, 1, 0, 1])
  const z = addToSignedHistogram(addToSignedHistogram(emptySignedHistogram(4), [0, 0]), [1])
  assert.deepEqual([...z.counts], [0, 0, 2, 1])
  const sm = smoothDistribution([0, 2, 0, 4])!
  close(sm[0]!, 1e-4)
  close(sm[1]!, 2 - 1e-4)
  assert.equal(smoothDistribution([0, 0]), undefined)
})

test('magnitude threshold keeps the k largest |w| (TF-MOT rule)', () => {
  const w = Float32Array.from([1, -2, 3, -4])
  const t = magnitudeThreshold([w], 0.5)
  assert.equal(t, 3)
  applyThreshold(w, t)
  assert.deepEqual([...w], [0, 0, 3, -4])
  assert.equal(
    magnitudeThreshold(
      [
        [1, 2],
        [3, 4, 5, 6],
      ],
      0.5,
    ),
    4,
  ) // global: keep 3 of 6
})

test('2:4 keeps the two largest of each group of four along the input axis', () => {
  // MatMul B [K=4, N=2]: groups run down each column.
  const w = Float32Array.from([0.1, 9, -0.5, 8, 0.3, -7, 0.2, 6])
  nmPrune(w, [4, 2], 0, 2, 4)
  assert.deepEqual([...w], [...Float32Array.from([0, 9, -0.5, 8, 0.3, 0, 0, 0])])
})

test('structured helpers: channel norms, keep largest, take along an axis', () => {
  const w = Float32Array.from([3, 0, 4, 0, 1, 0]) // [2,3]: columns norms 3+... per column
  assert.deepEqual(channelNorms(w, [2, 3], 1), [3, 1, 4])
  assert.deepEqual(keepByNorm([3, 1, 4], 1 / 3), [0, 2])
  assert.deepEqual(takeAlong(w, [2, 3], 1, [0, 2]), {data: Float32Array.from([3, 4, 0, 0]), dims: [2, 2]})
})

test('fidelity: max abs, mean relative, cosine and top-1 agreement', () => {
  const f = fidelity([1, 0, 0, 1], [0.5, 0, 0, 1], 2)
  assert.equal(f.maxAbsError, 0.5)
  close(f.meanRelativeError, 0.25)
  close(f.cosineSimilarity, 1.5 / Math.sqrt(2 * 1.25))
  assert.equal(f.top1Agreement, 1)
  assert.equal(accuracy([1, 2, 3, 4], [1, 2, 0, 4]), 0.75)
})

test('globs are fnmatch-style and excludes win', () => {
  assert.ok(globToRegExp('dense*/kernel').test('dense_1/kernel'))
  assert.ok(!globToRegExp('dense?').test('dense12'))
  assert.ok(selects({include: ['hidden*']}, 'hidden.mm'))
  assert.ok(!selects({include: ['hidden*'], exclude: ['*.mm']}, 'hidden.mm'))
  assert.ok(selects({}, 'x'))
})
