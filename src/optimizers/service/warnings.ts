/**
 * Warnings an optimiser run raises about its own result. A quantised model that is slower than the
 * original is a silent regression for whoever serves it (issue 17: dynamic int8 on the MNIST CNN is
 * ×1.8 at batch 1 and ×5.2 at batch 32), so every mode says so, with the factor and what to try.
 */
import type {LatencyPair} from '../evaluate/run.js'

/**
 * Ratios up to this are not called slower: two medians of alternating runs on a shared 2-core machine
 * differ by a few percent with identical models, and a warning that fires on noise teaches users to
 * ignore it. `--mode auto` does not use this slack: it keeps a model only at ratio ≤ 1.
 */
export const SLOWER_TOLERANCE = 1.05

/** `what` names the result ("dynamic model"); `hint` is appended after a semicolon when given. */
export function slowdownWarnings(latency: LatencyPair[], what: string, threads: number, hint?: string): string[] {
  const slow = latency.filter((l) => l.ratio > SLOWER_TOLERANCE)
  if (!slow.length) return []
  const at = slow.map((l) => `×${l.ratio.toFixed(2)} at batch ${l.batch}`).join(', ')
  return [`the ${what} is slower than the original (${at}, ${threads} thread${threads > 1 ? 's' : ''})${hint ? `; ${hint}` : ''}`]
}

export const AUTO_HINT = 'try --mode auto, which keeps per node only the precision that measures faster'
