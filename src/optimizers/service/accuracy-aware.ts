/**
 * Accuracy-aware fallback (Intel Neural Compressor's "basic" strategy): when quantising everything
 * costs more accuracy than the budget, rank the quantised units (nodes or weights) by the damage each
 * does alone (MSE of the model output against float32 with only that unit quantised), then return
 * them to float32 one at a time, most harmful first, until the budget holds or none are left.
 */
import {mse} from '../evaluate/metrics.js'

export interface Trial {keptFloat: string[]; accuracy: number; drop: number}
export interface FallbackResult {met: boolean; ranking: {unit: string; mse: number}[]; trials: Trial[]; best: Trial}

export interface FallbackHooks {
  /** Output of the first model output on the ranking subset, with these units kept in float32. */
  outputWith(keepFloat: Set<string>): Promise<Float32Array>
  /** Accuracy on the eval set with these units kept in float32. */
  accuracyWith(keepFloat: Set<string>): Promise<number>
}

export async function accuracyAwareFallback(units: string[], baseline: number, reference: Float32Array, budget: number, first: Trial, hooks: FallbackHooks): Promise<FallbackResult> {
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
    keep.add(r.unit)
    const acc = await hooks.accuracyWith(keep)
    const t = {keptFloat: [...keep], accuracy: acc, drop: baseline - acc}
    trials.push(t)
    if (t.accuracy > best.accuracy || (t.drop <= budget && best.drop > budget)) best = t
    if (t.drop <= budget) return {met: true, ranking, trials, best: t}
  }
  return {met: false, ranking, trials, best}
}
