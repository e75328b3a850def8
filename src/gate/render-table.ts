/** The human-readable comparison (cli-table3); the command writes it to stderr. */
import Table from 'cli-table3'
import type {Comparison} from './compare.js'
import {change, medianWithCI, pValue, verdictText} from './format.js'
import {METRIC_INFO} from './metrics.js'

export function renderTable(c: Comparison, opts: {color?: boolean} = {}): string {
  const table = new Table({
    head: ['point', 'metric', 'baseline median ± CI', 'new median ± CI', 'change [95% CI]', 'p', 'verdict'],
    // No ANSI colours unless asked: CI logs and pipes show them as garbage.
    style: opts.color ? {} : {head: [], border: []},
  })
  for (const r of c.rows) {
    table.push([
      r.point,
      `${METRIC_INFO[r.metric].label} (${r.unit})`,
      medianWithCI(r.base, r.metric),
      medianWithCI(r.next, r.metric),
      change(r),
      pValue(r.p),
      verdictText(r.verdict),
    ])
  }
  const lines = [table.toString()]
  // Refused rows share one explanation (the summary); repeating it per row buries the table.
  const notes = c.rows.filter((r) => r.note && r.verdict !== 'error')
  for (const r of notes) lines.push(`  ${r.point} ${r.metric}: ${r.note}`)
  for (const w of c.warnings) lines.push(`warning: ${w}`)
  const o = c.options
  lines.push(
    `alpha ${o.alpha}, threshold ±${(o.maxRegression * 100).toFixed(1)}%, ${o.resamples} bootstrap resamples (seed ${o.seed}); "~" = no significant change`,
  )
  // On error the command prints the reason as its error message; don't say it twice.
  lines.push(`verdict: ${c.verdict === 'error' ? 'cannot decide' : c.summary}`)
  return lines.join('\n')
}
