/** One CSV row per point (RFC 4180 quoting), the columns of the table plus the point id. */
import type {BenchRun} from '../results/bench-run.js'
import {hasCluster, toRows, type Row} from './rows.js'

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

/** Appended only when the run has cluster points (bench --replicas), so single-server CSVs keep their columns. */
const CLUSTER_COLUMNS = ['cluster', 'regime', 'perReplicaRequests', 'imbalance', 'balancerAddedMs', 'balancerAddedAtLoadMs', 'clusterModel'] as const

const clusterCells = (r: Row): unknown[] =>
  r.cluster
    ? [r.cluster.label, r.cluster.regime, r.cluster.perReplica, r.cluster.imbalance, r.cluster.addedMs, r.cluster.addedAtLoadMs, r.cluster.prediction]
    : CLUSTER_COLUMNS.map(() => '')

export function renderCsv(run: BenchRun): string {
  const cluster = hasCluster(run)
  const head = [...COLUMNS, ...(cluster ? CLUSTER_COLUMNS : [])].join(',')
  const line = (r: Row) => [...COLUMNS.map((c) => r[c]), ...(cluster ? clusterCells(r) : [])].map(cell).join(',')
  return `${[head, ...toRows(run).map(line)].join('\n')}\n`
}
