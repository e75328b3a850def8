import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {compareRuns} from '../../src/gate/compare.ts'
import {renderTable} from '../../src/gate/render-table.ts'
import {appendStepSummary, renderMarkdown} from '../../src/gate/render-markdown.ts'
import {makeRun} from './synthetic.ts'

const OPTS = {metrics: ['throughput', 'p99', 'p50', 'errors'] as const, maxRegression: 0.05, alpha: 0.05, resamples: 1000}
const regressed = compareRuns(makeRun([{}], 1), makeRun([{throughput: 800, p99: 36}], 2), {...OPTS, metrics: [...OPTS.metrics]})

test('table: one row per point × metric, with CI, change, p and verdict', () => {
  const t = renderTable(regressed)
  for (const h of ['baseline median ± CI', 'new median ± CI', 'change [95% CI]', 'verdict']) assert.ok(t.includes(h), h)
  assert.match(t, /throughput \(req\/s\).*REGRESSION/)
  assert.match(t, /p50 latency \(ms\).*~/)
  assert.match(t, /±\d+\.\d%/)
  assert.match(t, /-\d+\.\d% \[-\d+\.\d%, -\d+\.\d%\]/)
  assert.match(t, /verdict: 2 regression\(s\) detected/)
  assert.ok(!t.includes('\u001b['), 'no ANSI colours by default')
})

test('markdown: a GitHub table with a header line per column', () => {
  const md = renderMarkdown(regressed)
  assert.match(md, /Performance regression detected/)
  const lines = md.split('\n').filter((l) => l.startsWith('|'))
  assert.equal(lines.length, 2 + regressed.rows.length)
  // 7 columns = 8 unescaped pipes on every line, the separator line included.
  for (const l of lines) assert.equal(l.split(/(?<!\\)\|/).length - 2, 7, l)
  assert.match(md, /:x: REGRESSION/)
})

test('appendStepSummary appends only when GITHUB_STEP_SUMMARY is set', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-md-'))
  try {
    const file = join(dir, 'summary.md')
    writeFileSync(file, '# earlier step\n')
    assert.equal(appendStepSummary('hello', {GITHUB_STEP_SUMMARY: file}), true)
    assert.equal(readFileSync(file, 'utf8'), '# earlier step\nhello\n')
    assert.equal(appendStepSummary('hello', {}), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
