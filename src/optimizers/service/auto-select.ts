/**
 * The decisions of `quantize --mode auto`, as pure functions of measured figures so they can be tested
 * without timing anything: which nodes a mode keeps, which node to back off next, which candidate
 * wins under an objective, and whether a candidate is admissible at all.
 */

export type Objective = 'latency' | 'size' | 'balanced'

/** Geometric mean of latency ratios: one number per candidate that weighs batch 1 and batch 32 alike. */
export function geomean(xs: number[]): number {
  if (!xs.length) return 1
  return Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length)
}

/** A node measured alone in one precision: its end-to-end latency ratio per batch and its fidelity. */
export interface SoloFigure {
  node: string
  ratios: number[]
  cosine: number
}

/**
 * A node is worth quantising in a mode when, quantised alone, the whole model was faster at every
 * measured batch (ratio < 1) and stayed within the fidelity budget: a node that only helps at batch 32
 * would make batch 1 slower, and the result must not be slower at any batch. `allowEqual` (objective
 * size): a node that costs no time is worth its bytes.
 */
export function keepsSpeed(s: SoloFigure, minCosine: number, allowEqual = false): boolean {
  return s.ratios.length > 0 && s.ratios.every((r) => (allowEqual ? r <= 1 : r < 1)) && s.cosine >= minCosine
}

/**
 * Which kept node to return to float32 next when the combined model is too slow (the node whose solo
 * gain was smallest, i.e. highest geometric-mean ratio) or too inaccurate (the lowest solo cosine).
 */
export function backoffOrder(kept: SoloFigure[], why: 'slower' | 'fidelity'): string[] {
  const by = why === 'slower' ? (s: SoloFigure) => -geomean(s.ratios) : (s: SoloFigure) => s.cosine
  return [...kept].sort((a, b) => by(a) - by(b) || a.node.localeCompare(b.node)).map((s) => s.node)
}

export interface CandidateFigure {
  name: string
  /** latency after/before per measured batch, from the verification run */
  ratios: number[]
  sizeRatio: number
  admissible: boolean
}

/** Lower is better. `balanced` multiplies the two ratios: halving size is worth halving latency. */
export function score(c: CandidateFigure, objective: Objective): number {
  const lat = geomean(c.ratios)
  if (objective === 'latency') return lat
  if (objective === 'size') return c.sizeRatio
  return lat * c.sizeRatio
}

/** The admissible candidate with the best score (ties: the earlier one, i.e. the simpler mode), or undefined. */
export function pickCandidate<T extends CandidateFigure>(cs: T[], objective: Objective): T | undefined {
  let best: T | undefined
  for (const c of cs) if (c.admissible && (!best || score(c, objective) < score(best, objective))) best = c
  return best
}

/**
 * Admissible: not slower than float32 at any measured batch (ratio ≤ 1, no tolerance: this is the
 * promise `--mode auto` makes), at least one batch strictly faster unless the objective is size, and
 * within the fidelity/accuracy budget.
 */
export function admissible(ratios: number[], withinBudget: boolean, objective: Objective): boolean {
  if (!withinBudget || !ratios.length || ratios.some((r) => r > 1)) return false
  return objective === 'size' || ratios.some((r) => r < 1)
}
