/** Number formatting shared by the table and the Markdown report, so both say the same thing. */
import type {ComparisonRow, SideStats, Verdict} from './compare.js'

/** 4 significant digits without exponent noise for ordinary magnitudes. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return '—'
  if (x === 0) return '0'
  const a = Math.abs(x)
  if (a >= 1e6 || a < 1e-3) return x.toExponential(2)
  return String(Number(x.toPrecision(4)))
}

/** "12.1 ±1.6%": the CI as the larger of its two half-widths relative to the median (benchstat style). */
export function medianWithCI(s: SideStats, metric: string): string {
  if (metric === 'errors' && s.total !== undefined) return `${s.total} total`
  if (!Number.isFinite(s.median)) return '—'
  const half = Math.max(s.median - s.ci.lo, s.ci.hi - s.median)
  const rel = s.median !== 0 ? ` ±${((half / Math.abs(s.median)) * 100).toFixed(1)}%` : ` ±${num(half)}`
  return `${num(s.median)}${rel} (n=${s.n})`
}

const pct = (f: number) => `${f >= 0 ? '+' : ''}${(f * 100).toFixed(1)}%`

export function change(r: ComparisonRow): string {
  if (r.change === null) return '—'
  if (!r.changeCI) return pct(r.change)
  return `${pct(r.change)} [${pct(r.changeCI.lo)}, ${pct(r.changeCI.hi)}]`
}

export function pValue(p: number | null): string {
  if (p === null) return '—'
  if (p < 1e-4) return p.toExponential(1)
  return String(Number(p.toPrecision(2)))
}

export function verdictText(v: Verdict): string {
  return v === 'regression' ? 'REGRESSION' : v === 'improvement' ? 'improvement' : v === 'error' ? 'ERROR' : '~'
}
