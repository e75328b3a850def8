/**
 * Flag types the commands share (oclif `Flags.custom`), so a list, a number, a percentage or a
 * significance level is parsed and refused the same way everywhere. Parse errors are E_USAGE (exit 2)
 * and name the flag. None has a default: a command that must know whether the user gave a flag sees
 * `undefined`, and its options builder applies the defaults (e.g. src/bench/build-options.ts).
 */
import {Flags} from '@oclif/core'
import {usageError} from '../errors.js'
import {parseList} from '../bench/options.js'
import {parseAlpha, parseFraction} from '../gate/options.js'

interface Bounds {
  integer?: boolean
  min?: number
  max?: number
}

/** "1,2,4", or ranges "1:64:x2" (geometric) and "10:50:10" (arithmetic), into numbers. */
export const numberListFlag = (description: string, bounds: Bounds = {}) =>
  Flags.custom<number[]>({description, parse: async (input, _ctx, flag) => parseList(input, flag.name, bounds)})()

/** One finite number (seconds, percent, milliseconds…), with optional bounds. */
export const numberFlag = (description: string, bounds: NumberBounds = {}) =>
  Flags.custom<number>({description, parse: async (input, _ctx, flag) => parseNumberFlag(input, `--${flag.name}`, bounds)})()

type NumberBounds = Bounds & {positive?: boolean}

/** Parses a numeric flag value; every refusal names the flag and the value, so the user knows what to fix. */
export function parseNumberFlag(raw: string, flag: string, bounds: NumberBounds = {}): number {
  const v = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(v)) throw usageError(`${flag} must be a number (got "${raw}")`)
  if (bounds.integer && !Number.isInteger(v)) throw usageError(`${flag} must be a whole number (got ${raw})`)
  if (bounds.positive && !(v > 0)) throw usageError(`${flag} must be positive (got ${raw})`)
  if (bounds.min !== undefined && v < bounds.min) throw usageError(`${flag} can not be less than ${bounds.min} (got ${raw})`)
  if (bounds.max !== undefined && v > bounds.max) throw usageError(`${flag} can not be more than ${bounds.max} (got ${raw})`)
  return v
}

/** "5%" or "0.05" → 0.05 (gate/options.ts). */
export const fractionFlag = (description: string, defaultValue: string) =>
  Flags.custom<number>({
    description,
    default: parseFraction(defaultValue, 'default'),
    defaultHelp: async () => defaultValue,
    parse: async (input, _c, f) => parseFraction(input, `--${f.name}`),
  })()

/** A significance level in (0, 0.5] (gate/options.ts). */
export const alphaFlag = (description: string, defaultValue: string) =>
  Flags.custom<number>({description, default: parseAlpha(defaultValue), defaultHelp: async () => defaultValue, parse: async (input) => parseAlpha(input)})()
