/** A Markdown report: the results table, the queueing comparison, the recommendation, the warnings. */
import type {BenchRun} from '../results/bench-run.js'
import {fmt, fmtMs, pct} from './format.js'
import {hasCluster, toRows} from './rows.js'

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function renderMarkdown(run: BenchRun): string {
  const rows = toRows(run)
  const out: string[] = [
    `# tfsopt bench: ${run.model.name}`,
    '',
    `Target ${run.target.url}, ${run.machine.cores} cores (${run.machine.cpuModel}), ${run.startedAt}.`,
    '',
  ]
  out.push(
    '| model | server | load | req/s | inf/s | mean ms | p50 | p90 | p99 | p99.9 | errors | stable | predicted mean ms | model | rel. err (mean, req/s) | violated assumptions |',
  )
  out.push('|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|---|--:|---|')
  for (const r of rows) {
    out.push(
      `| ${esc(r.model)} | ${esc(r.server)} | ${esc(r.load)}${r.recommended ? ' ★' : ''} | ${fmt(r.throughput, 0)} | ${fmt(r.inferencesPerSec, 0)} | ${fmtMs(r.meanMs)} | ${fmtMs(r.p50Ms)} | ${fmtMs(r.p90Ms)} | ${fmtMs(r.p99Ms)} | ${fmtMs(r.p999Ms)} | ${r.errors} | ${r.failed ? 'failed' : r.stable ? 'yes' : 'no'} | ${r.predictedMeanMs !== undefined ? fmtMs(r.predictedMeanMs) : '–'} | ${esc(r.predictedBy ?? '–')} | ${r.calibration ? 'calibration' : `${pct(r.relErr)}${r.throughputRelErr !== undefined ? `, ${pct(r.throughputRelErr)}` : ''}`} | ${esc(r.violated || '–')} |`,
    )
  }
  if (hasCluster(run)) {
    out.push(
      '',
      '## Replicas behind the balancer',
      '',
      "Requests each replica answered (its own metrics); imbalance = max/mean; balancer +ms = the hop's median extra latency (GET /healthz, balancer minus direct), idle (200 one at a time before the point) and at load (a pair every 25 ms while the point's load ran); the policy's cluster model (src/queueing/cluster.ts) beside the measurement.",
      '',
      '| server | load | replicas × policy | regime | per-replica requests | imbalance | balancer +ms idle | balancer +ms at load | cluster model vs measured |',
      '|---|---|---|---|---|--:|--:|--:|---|',
    )
    for (const r of rows) {
      const c = r.cluster
      if (!c) continue
      out.push(
        `| ${esc(r.server)} | ${esc(r.load)} | ${esc(c.label)} | ${c.regime} | ${c.perReplica} | ${fmt(c.imbalance, 2)} | ${fmtMs(c.addedMs)} | ${fmtMs(c.addedAtLoadMs)} | ${esc(c.prediction)} |`,
      )
    }
  }
  const rec = run.recommendation
  out.push('', '## Recommendation', '')
  if (rec) {
    out.push(
      `${rec.reason}: ${fmt(rec.throughput, 0)} req/s, p99 ${fmtMs(rec.p99Ms)} ms.`,
      '',
      '```sh',
      rec.serveCommand,
      '```',
      '',
      'TF Serving `batching_parameters.txt`:',
      '',
      '```',
      rec.tfServing.batchingParametersTxt.trimEnd(),
      '```',
      '',
      `TF Serving flags: \`${rec.tfServing.flags.join(' ')}\``,
    )
    if (rec.cluster)
      out.push(
        '',
        `${rec.cluster.replicas} replica(s), policy **${rec.cluster.lb}** (measured behind ${rec.cluster.balancer}); one serve command per replica on its own port.`,
        '',
        'nginx `upstream`:',
        '',
        '```nginx',
        rec.cluster.nginxUpstream,
        '```',
        '',
        'HAProxy `backend`:',
        '',
        '```',
        rec.cluster.haproxyBackend,
        '```',
      )
  } else out.push('No configuration met the objective without errors.')
  const warnings = run.warnings ?? []
  if (warnings.length) out.push('', '## Warnings', '', ...warnings.map((w) => `- ${w}`))
  return `${out.join('\n')}\n`
}
