/** Parsing of the gate's flag values, kept out of the command so it is unit-tested. */
import {TfsoptError} from '../errors.js'

const bad = (m: string) => new TfsoptError('E_USAGE', m)

/** "5%" → 0.05, "0.05" → 0.05. A bare number ≥ 1 is refused as ambiguous ("5" could mean 5% or 500%). */
export function parseFraction(s: string, flag: string): number {
  const t = s.trim()
  const m = /^(\d+(?:\.\d+)?|\.\d+)(%?)$/.exec(t)
  if (!m) throw bad(`${flag}: expected a percentage like 5% or a fraction like 0.05, got "${s}"`)
  const v = Number(m[1])
  if (m[2] === '%') {
    if (v >= 100) throw bad(`${flag}: must be below 100%, got "${s}"`)
    return v / 100
  }
  if (v >= 1) throw bad(`${flag}: "${s}" is ambiguous; write ${v}% or ${v / 100}`)
  return v
}

/** Significance level in (0, 0.5]: larger alphas make the gate flag noise. */
export function parseAlpha(s: string): number {
  const v = Number(s)
  if (!Number.isFinite(v) || v <= 0 || v > 0.5 || s.trim() === '') throw bad(`--alpha: expected a number in (0, 0.5], e.g. 0.05, got "${s}"`)
  return v
}
