/** One CSV row per point (RFC 4180 quoting), the columns of the table plus the point id. */
import type {BenchRun} from '../results/bench-run.js'
import {toRows, type Row} from './rows.js'

const COLUMNS: Array<keyof Row> = [
  'id',
  'model',
  'server',
  'load',
  'clientBatch',
  'repeatRatio',
  'protocol',
  'throughput',
  'inferencesPerSec',
  'meanMs',
  'p50Ms',
  'p90Ms',
  'p95Ms',
  'p99Ms',
  'p999Ms',
  'errors',
  'stable',
  'failed',
  'queueMs',
  'computeMs',
  'batchSize',
  'cacheHitRatio',
  'clientCpu',
  'serverCpu',
  'predictedMeanMs',
  'predictedBy',
  'relErr',
  'predictedThroughput',
  'throughputRelErr',
  'throughputCi',
  'meanCi',
  'otherCpu',
  'violated',
  'pareto',
  'recommended',
]

const cell = (v: unknown): string => {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return ''
  const s = typeof v === 'number' ? String(Math.round(v * 1e4) / 1e4) : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function renderCsv(run: BenchRun): string {
  return `${[COLUMNS.join(','), ...toRows(run).map((r) => COLUMNS.map((c) => cell(r[c])).join(','))].join('\n')}\n`
}
