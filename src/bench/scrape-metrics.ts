/**
 * The server's own account of a point, from its Prometheus /metrics: scraped just before the first
 * measured window and just after the last, so the deltas cover exactly the measured time (no warm-up).
 * Missing metrics (a foreign TF-Serving-compatible target) simply leave fields undefined.
 */
import type {ServerMetrics} from '../results/bench-run.js'
import {getText} from './target.js'

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the Prometheus text exposition format (comments skipped, label values unescaped). */
export function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const labels: Record<string, string> = {}
    if (m[3])
      for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4])
    if (!Number.isNaN(v)) out.push({name: m[1]!, labels, value: v})
  }
  return out
}

export type Snapshot = {at: number; samples: Sample[]}

/** Sum over every series of a metric (optionally only those matching some labels). */
export function total(s: Snapshot, name: string, match: Record<string, string> = {}): number | undefined {
  let sum: number | undefined
  for (const x of s.samples) {
    if (x.name !== name) continue
    if (Object.entries(match).some(([k, v]) => x.labels[k] !== v)) continue
    sum = (sum ?? 0) + x.value
  }
  return sum
}

export async function scrape(base: string): Promise<Snapshot | undefined> {
  try {
    const {status, text} = await getText(`${base}/metrics`, 3000)
    return status === 200 ? {at: Date.now(), samples: parsePrometheus(text)} : undefined
  } catch {
    return undefined
  }
}

/** The server metrics of a point, as the bench result records them. */
export type ServerBreakdown = ServerMetrics

const delta = (a: Snapshot, b: Snapshot, name: string) => {
  const x = total(a, name)
  const y = total(b, name)
  return x === undefined || y === undefined ? undefined : y - x
}
const sum = (a: number | undefined, b: number | undefined) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0))
const ratio = (n: number | undefined, d: number | undefined, scale = 1) => (n === undefined || !d ? undefined : (n / d) * scale)

export function breakdown(before: Snapshot | undefined, after: Snapshot | undefined): ServerBreakdown | undefined {
  if (!before || !after) return undefined
  const d = (n: string) => delta(before, after, n)
  const wallS = (after.at - before.at) / 1000
  const hits = d('tfsopt_cache_hits_total')
  const misses = d('tfsopt_cache_misses_total')
  const cpu = d('process_cpu_seconds_total')
  const requests = d('tfsopt_requests_total')
  const mainBusy = d('tfsopt_main_thread_busy_seconds_total')
  const workerBusy = (activity: string) => {
    const x = total(before, 'tfsopt_worker_busy_seconds_total', {activity})
    const y = total(after, 'tfsopt_worker_busy_seconds_total', {activity})
    return y === undefined ? undefined : y - (x ?? 0)
  }
  const inference = workerBusy('inference')
  const workerLoop = workerBusy('loop')
  const workerCodec = sum(workerBusy('decode'), workerBusy('encode'))
  const mainCodec = d('tfsopt_main_thread_codec_seconds_total')
  const workers = total(after, 'tfsopt_workers')
  const byStatus: Record<string, number> = {}
  for (const x of after.samples) {
    if (x.name !== 'tfsopt_requests_total') continue
    const prev = before.samples.find((y) => y.name === x.name && JSON.stringify(y.labels) === JSON.stringify(x.labels))?.value ?? 0
    const st = x.labels.status ?? 'all'
    byStatus[st] = (byStatus[st] ?? 0) + x.value - prev
  }
  const out: ServerBreakdown = {
    requestMs: ratio(d('tfsopt_request_latency_seconds_sum'), d('tfsopt_request_latency_seconds_count'), 1000),
    queueMs: ratio(d('tfsopt_queue_latency_seconds_sum'), d('tfsopt_queue_latency_seconds_count'), 1000),
    computeMsPerBatch: ratio(d('tfsopt_compute_latency_seconds_sum'), d('tfsopt_compute_latency_seconds_count'), 1000),
    batchSize: ratio(d('tfsopt_batch_size_sum'), d('tfsopt_batch_size_count')) ?? ratio(d('tfsopt_inferences_total'), d('tfsopt_batches_total')),
    batches: d('tfsopt_batches_total') ?? d('tfsopt_batch_size_count'),
    paddingTotal: d('tfsopt_padding_size_total'),
    cacheHitRatio: hits === undefined || misses === undefined || hits + misses === 0 ? undefined : hits / (hits + misses),
    cacheEvictions: d('tfsopt_cache_evictions_total'),
    cacheBytes: total(after, 'tfsopt_cache_bytes'),
    cpuCores: cpu === undefined || wallS <= 0 ? undefined : cpu / wallS,
    rssBytes: total(after, 'process_resident_memory_bytes'),
    workers,
    mainBusyMsPerRequest: ratio(mainBusy, requests, 1000),
    mainUtilisation: ratio(mainBusy, wallS),
    mainCodecMsPerRequest: ratio(mainCodec, requests, 1000),
    workerInferenceMsPerRequest: ratio(inference, requests, 1000),
    workerCodecMsPerRequest: ratio(workerCodec, requests, 1000),
    workerLoopMsPerRequest: ratio(workerLoop, requests, 1000),
    workerUtilisation: ratio(sum(inference, workerCodec), wallS * (workers ?? 1)),
    workerRestarts: d('tfsopt_worker_restarts_total'),
    requestsByStatus: Object.keys(byStatus).length ? byStatus : undefined,
  }
  for (const k of Object.keys(out) as Array<keyof ServerBreakdown>) if (out[k] === undefined) delete out[k]
  return Object.keys(out).length ? out : undefined
}
