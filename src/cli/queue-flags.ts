/**
 * Flag helpers for the `tfsopt queue` commands (kept here: every file under src/commands is loaded by
 * oclif as a command). Flag parsing with E_USAGE messages and unit conversion; the stderr table is in
 * report/queue-tables.ts, the maths in queueing/.
 */
import {usageError} from '../errors.js'

/** Parses a numeric flag; `min`/`positive` checks name the flag, so the user knows what to fix. */
export function parseNumberFlag(raw: string, flag: string, opts: {positive?: boolean; min?: number; max?: number; integer?: boolean} = {}): number {
  const v = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(v)) throw usageError(`${flag} must be a number (got "${raw}")`)
  if (opts.integer && !Number.isInteger(v)) throw usageError(`${flag} must be a whole number (got ${raw})`)
  if (opts.positive && v <= 0) throw usageError(`${flag} must be > 0 (got ${raw})`)
  if (opts.min !== undefined && v < opts.min) throw usageError(`${flag} must be ≥ ${opts.min} (got ${raw})`)
  if (opts.max !== undefined && v > opts.max) throw usageError(`${flag} must be ≤ ${opts.max} (got ${raw})`)
  return v
}

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
