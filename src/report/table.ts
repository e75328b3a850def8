/** The terminal table (cli-table3) and the recommendation text, printed to stderr by the command. */
import Table from 'cli-table3'
import type {BenchRun, Recommendation} from '../results/bench-run.js'
import {fmt, fmtMs, pct} from './format.js'
import {toRows} from './rows.js'

export function renderTable(run: BenchRun): string {
  const t = new Table({
    head: [
      'model',
      'server',
      'load',
      'req/s',
      'inf/s',
      'mean',
      'p50',
      'p90',
      'p99 (spread)',
      'p99.9',
      'err',
      'queue',
      'batch',
      'hit',
      'cpu cli/srv',
      'predicted mean (model, err)',
      '',
    ],
    style: {head: [], border: []},
  })
  for (const r of toRows(run)) {
    const mark = [r.recommended ? '★' : '', r.pareto ? 'P' : '', r.failed ? 'FAILED' : r.stable ? '' : 'unstable', r.errors ? '!' : '']
      .filter(Boolean)
      .join(' ')
    t.push([
      r.model,
      r.server,
      r.load + (r.clientBatch > 1 ? ` ×${r.clientBatch}` : '') + (r.repeatRatio ? ` rep ${r.repeatRatio}` : ''),
      fmt(r.throughput, 0),
      fmt(r.inferencesPerSec, 0),
      fmtMs(r.meanMs),
      fmtMs(r.p50Ms),
      fmtMs(r.p90Ms),
      `${fmtMs(r.p99Ms)}${r.p99Spread ? ` (${r.p99Spread})` : ''}`,
      fmtMs(r.p999Ms),
      String(r.errors),
      fmtMs(r.queueMs),
      fmt(r.batchSize, 1),
      pct(r.cacheHitRatio),
      `${fmt(r.clientCpu, 2)}/${fmt(r.serverCpu, 2)}`,
      r.predictedMeanMs !== undefined ? `${fmtMs(r.predictedMeanMs)} (${r.predictedBy}, ${r.calibration ? 'calibration point' : pct(r.relErr)})` : '–',
      mark,
    ])
  }
  return `${t.toString()}\nlatencies in ms; ★ recommended, P Pareto front (throughput vs p99), ! errors; predicted = queueing model (src/queueing) with relative error; a calibration point is the model's input, not a forecast`
}

export function renderRecommendation(rec: Recommendation | null | undefined): string {
  if (!rec) return 'No recommendation: no configuration met the objective without errors.'
  return [
    `Recommendation: ${rec.reason}`,
    `  ${fmt(rec.throughput, 0)} req/s, ${fmt(rec.inferencesPerSec, 0)} inferences/s, p99 ${fmtMs(rec.p99Ms)} ms${rec.caveat ? `  (${rec.caveat})` : ''}`,
    `  serve it with:  ${rec.serveCommand}`,
    '  TF Serving batching_parameters.txt:',
    ...rec.tfServing.batchingParametersTxt
      .trimEnd()
      .split('\n')
      .map((l) => `    ${l}`),
    `  TF Serving flags: ${rec.tfServing.flags.join(' ')}`,
  ].join('\n')
}
