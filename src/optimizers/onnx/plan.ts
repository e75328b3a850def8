/** What a transform did, node by node, so every run can report changed and skipped with reasons. */
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
