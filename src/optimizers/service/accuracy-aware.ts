/**
 * Accuracy-aware fallback (Intel Neural Compressor's "basic" strategy): when quantising everything
 * costs more accuracy than the budget, rank the quantised units (nodes or weights) by the damage each
 * does alone (MSE of the model output against float32 with only that unit quantised), then return
 * them to float32 one at a time, most harmful first, until the budget holds, none are left, or
 * `maxTrials` fallback trials have been spent (INC's max_trials).
 *
 * Without a trial limit the search cannot end unmet: its last trial keeps every quantised unit in
 * float32, which is the original model (static mode: after BatchNormalization folding, exact up to float
 * rounding), so its drop is 0 and any budget ≥ 0 holds. With `maxTrials` it can: the best trial (highest
 * accuracy) is then returned with met = false, and `tfsopt quantize` writes it and exits 1.
 */
import {mse} from '../evaluate/metrics.js'

export interface Trial {
  keptFloat: string[]
  accuracy: number
  drop: number
}
export interface FallbackResult {
  met: boolean
  ranking: {unit: string; mse: number}[]
  trials: Trial[]
  best: Trial
}

export interface FallbackHooks {
  /** Output of the first model output on the ranking subset, with these units kept in float32. */
  outputWith(keepFloat: Set<string>): Promise<Float32Array>
  /** Accuracy on the eval set with these units kept in float32. */
  accuracyWith(keepFloat: Set<string>): Promise<number>
}

export async function accuracyAwareFallback(
  units: string[],
  baseline: number,
  reference: Float32Array,
  budget: number,
  first: Trial,
  hooks: FallbackHooks,
  maxTrials = Infinity,
): Promise<FallbackResult> {
  const trials: Trial[] = [first]
  let best = first
  if (first.drop <= budget) return {met: true, ranking: [], trials, best}
  const ranking: {unit: string; mse: number}[] = []
  for (const u of units) {
    const others = new Set(units.filter((x) => x !== u))
    ranking.push({unit: u, mse: mse(reference, await hooks.outputWith(others))})
  }
  ranking.sort((a, b) => b.mse - a.mse)
  const keep = new Set<string>()
  for (const r of ranking) {
    if (trials.length - 1 >= maxTrials) break
    keep.add(r.unit)
    const acc = await hooks.accuracyWith(keep)
    const t = {keptFloat: [...keep], accuracy: acc, drop: baseline - acc}
    trials.push(t)
    if (t.accuracy > best.accuracy || (t.drop <= budget && best.drop > budget)) best = t
    if (t.drop <= budget) return {met: true, ranking, trials, best: t}
  }
  return {met: false, ranking, trials, best}
}
