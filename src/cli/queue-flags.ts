/**
 * Helpers for the `tfsopt queue` commands (kept out of src/commands: oclif loads every file there as a
 * command): percentile lists, JSON keys and unit conversion. Number parsing is src/cli/flags.ts; the
 * stderr table is report/queue-tables.ts, the maths queueing/.
 */
import {usageError} from '../errors.js'

/** "50,95,99.9" → [0.5, 0.95, 0.999]; each must lie strictly between 0 and 100. */
export function parsePercentiles(raw: string): number[] {
  const out = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const v = Number(s)
      if (!Number.isFinite(v) || v <= 0 || v >= 100) throw usageError(`--percentiles takes numbers strictly between 0 and 100, comma-separated (got "${s}")`)
      return v / 100
    })
  if (out.length === 0) throw usageError('--percentiles is empty: e.g. --percentiles 50,95,99')
  return out
}

/** Key for a percentile in JSON output: 0.99 → "p99", 0.999 → "p99.9". */
export const pKey = (p: number): string => `p${Number((p * 100).toPrecision(6))}`

export const ms = (seconds: number): number => seconds * 1000
export const sec = (millis: number): number => millis / 1000
