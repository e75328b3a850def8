/**
 * The metrics the gate can compare, where their per-window samples come from, and which direction
 * is bad. Samples are per measurement window (WindowSample), so each window is one observation.
 */
import type {PointResult, WindowSample} from '../results/bench-run.js'

export const METRICS = ['throughput', 'p50', 'p99', 'errors'] as const
export type Metric = (typeof METRICS)[number]

export interface MetricInfo {
  /** Column label, with unit. */
  label: string
  unit: string
  /** 'higher' = bigger is better (throughput); 'lower' = smaller is better (latency). */
  better: 'higher' | 'lower'
  sample: (w: WindowSample) => number
}

export const METRIC_INFO: Record<Metric, MetricInfo> = {
  throughput: {label: 'throughput', unit: 'req/s', better: 'higher', sample: (w) => w.throughput},
  p50: {label: 'p50 latency', unit: 'ms', better: 'lower', sample: (w) => w.p50Ms},
  p99: {label: 'p99 latency', unit: 'ms', better: 'lower', sample: (w) => w.p99Ms},
  errors: {label: 'errors', unit: 'requests', better: 'lower', sample: (w) => w.errors},
}

export function isMetric(s: string): s is Metric {
  return (METRICS as readonly string[]).includes(s)
}

export function samplesOf(point: PointResult, metric: Metric): number[] {
  return point.windows.map(METRIC_INFO[metric].sample)
}

/** Total request errors of a point: the point summary or, if larger, the sum over its windows. */
export function totalErrors(point: PointResult): number {
  const fromWindows = point.windows.reduce((s, w) => s + (w.errors || 0), 0)
  return Math.max(point.errors?.total ?? 0, fromWindows)
}
