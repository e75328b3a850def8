import {test} from 'node:test'
import assert from 'node:assert/strict'
import {renderCsv} from '../../src/report/csv.ts'
import {renderMarkdown} from '../../src/report/markdown.ts'
import {renderRecommendation, renderTable} from '../../src/report/table.ts'
import {renderHtml} from '../../src/report/html.ts'
import {sampleRun} from './sample-run.ts'

test('finalize: USL fitted from 6 points, recommendation meets the SLO with no errors, Pareto front', () => {
  const run = sampleRun()
  const fits = run.fits as Array<{usl?: {sigma: number; kappa: number}}>
  assert.ok(fits[0]!.usl, 'USL fitted')
  assert.ok(Math.abs(fits[0]!.usl!.sigma - 0.1) < 0.02, `σ = ${fits[0]!.usl!.sigma}`)
  const rec = run.recommendation as {pointId: string; p99Ms: number; serveCommand: string; tfServing: {batchingParametersTxt: string}}
  assert.ok(rec.p99Ms <= 40)
  assert.match(rec.pointId, /maxBatch=8/)
  assert.equal(rec.serveCommand, 'tfsopt serve model.onnx --max-batch-size 8')
  assert.match(rec.tfServing.batchingParametersTxt, /max_batch_size \{ value: 8 \}\nbatch_timeout_micros \{ value: 0 \}/)
  assert.ok((run.pareto as string[]).length >= 2)
  assert.ok(!(run.pareto as string[]).some((id) => id.includes('maxBatch=1,c=32')), 'a point with errors is not on the front')
  const q = run.points[3]!.queueing as Array<{model: string; relErr: number | null}>
  assert.ok(q.some((r) => r.model.startsWith('MVA') && r.relErr !== null))
})

test('table, CSV and Markdown agree on the points and flag errors and instability', () => {
  const run = sampleRun()
  const table = renderTable(run)
  assert.match(table, /★/)
  assert.match(table, /unstable/)
  assert.match(renderRecommendation(run.recommendation as never), /serve it with: {2}tfsopt serve model\.onnx --max-batch-size 8/)
  const csv = renderCsv(run).trim().split('\n')
  assert.equal(csv.length, run.points.length + 1)
  const head = csv[0]!.split(',')
  const row = csv.find((l) => l.includes('maxBatch=1,c=32'))!
  // The id has commas: it must be quoted, and the row still has as many cells as the header.
  assert.ok(row.startsWith('"model=mnist,maxBatch=1,c=32'))
  assert.equal(row.match(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)!.length, head.length)
  assert.equal(row.split(',')[head.indexOf('errors') + 4], '3') // +4: the quoted id holds 4 commas
  const md = renderMarkdown(run)
  assert.equal(md.split('\n').filter((l) => l.startsWith('| mnist')).length, run.points.length)
  assert.match(md, /## Warnings[\s\S]*did not stabilise/)
})

test('HTML is one self-contained file with all four chart kinds', () => {
  const html = renderHtml(sampleRun())
  for (const l of ['Throughput vs concurrency', 'Latency vs throughput', 'Latency percentiles', 'Throughput by configuration and load'])
    assert.ok(html.includes(`aria-label="${l}`), l)
  assert.ok(html.includes('USL fit'))
  assert.doesNotMatch(html, /<script|<link|(?:src|href)="https?:/)
})
