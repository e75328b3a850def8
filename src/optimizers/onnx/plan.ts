/** What a transform did, node by node, so every run can report changed and skipped with reasons. */
import {TfsoptError} from '../../errors.js'

export interface ChangedEntry {
  node: string
  opType: string
  weights: string[]
  how: string
}
export interface SkippedEntry {
  node: string
  opType: string
  reason: string
}
export interface TransformPlan {
  changed: ChangedEntry[]
  skipped: SkippedEntry[]
  notes: string[]
}

export const emptyPlan = (): TransformPlan => ({changed: [], skipped: [], notes: []})

/** The error for a plan that changes nothing: the first reasons nodes were skipped, or what the transform looks for. */
export function nothingChanged(plan: TransformPlan, input: string, action: string): TfsoptError {
  const why = plan.skipped
    .slice(0, 5)
    .map((s) => `${s.node}: ${s.reason}`)
    .join('; ')
  return new TfsoptError('E_UNSUPPORTED', `nothing in ${input} can be ${action}${why ? ` (${why})` : ' (no MatMul/Gemm/Conv with constant float weights)'}`)
}
