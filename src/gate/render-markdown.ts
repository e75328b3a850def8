/**
 * The comparison as Markdown, for a PR comment (--markdown FILE) and the GitHub Actions job summary
 * (appended to $GITHUB_STEP_SUMMARY when set, which is how Actions shows it on the run page).
 */
import {appendFileSync} from 'node:fs'
import type {Comparison} from './compare.js'
import {change, medianWithCI, pValue, verdictText} from './format.js'
import {METRIC_INFO} from './metrics.js'

// Pipes inside cells would split Markdown table columns.
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

const ICON = {regression: ':x:', improvement: ':rocket:', '~': '', error: ':warning:'} as const

export function renderMarkdown(c: Comparison): string {
  const head =
    c.verdict === 'regression'
      ? ':x: **Performance regression detected**'
      : c.verdict === 'error'
        ? ':warning: **Performance gate could not decide**'
        : ':white_check_mark: **No performance regression**'
  const out: string[] = [`### tfsopt compare: ${c.verdict}`, '', `${head} — ${cell(c.summary)}`, '']
  out.push('| point | metric | baseline median ± CI | new median ± CI | change [95% CI] | p | verdict |')
  out.push('|---|---|---|---|---|---|---|')
  for (const r of c.rows) {
    const v = `${ICON[r.verdict]} ${verdictText(r.verdict)}`.trim()
    out.push(
      `| ${[r.point, `${METRIC_INFO[r.metric].label} (${r.unit})`, medianWithCI(r.base, r.metric), medianWithCI(r.next, r.metric), change(r), pValue(r.p), v].map(cell).join(' | ')} |`,
    )
  }
  // Refused rows are explained once, by the problems list.
  const notes = c.rows.filter((r) => r.note && r.verdict !== 'error')
  if (notes.length || c.warnings.length || c.problems.length) out.push('')
  for (const p of c.problems) out.push(`- :warning: **${cell(p.message)}**`)
  for (const r of notes) out.push(`- \`${r.point}\` ${r.metric}: ${cell(r.note!)}`)
  for (const w of c.warnings) out.push(`- :warning: ${cell(w)}`)
  const o = c.options
  out.push(
    '',
    `<sub>Mann-Whitney U (two-sided, α = ${o.alpha}) and a bootstrap ${o.level * 100}% CI of the ratio of medians (${o.resamples} resamples); a regression needs p < α and the whole CI beyond ±${(o.maxRegression * 100).toFixed(1)}%. "~" = no significant change. Baseline: tfsopt ${cell(c.base.tfsoptVersion ?? '?')} on ${cell(c.base.machine?.cpuModel ?? '?')}; new: tfsopt ${cell(c.next.tfsoptVersion ?? '?')} on ${cell(c.next.machine?.cpuModel ?? '?')}.</sub>`,
    '',
  )
  return out.join('\n')
}

/** Appends to the GitHub Actions job summary when $GITHUB_STEP_SUMMARY is set; returns whether it did. */
export function appendStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env.GITHUB_STEP_SUMMARY
  if (!file) return false
  appendFileSync(file, `${markdown}\n`)
  return true
}
