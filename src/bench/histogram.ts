/**
 * Latency recording in integer microseconds (hdr-histogram-js, 3 significant digits): autocannon's own
 * histogram holds whole milliseconds, too coarse for sub-millisecond inference.
 */
import * as hdr from 'hdr-histogram-js'
import type {LatencySummary} from '../results/bench-run.js'

export type Histogram = hdr.Histogram

/** One hour in µs: anything slower is clamped rather than thrown away (it still counts as a request). */
const MAX_US = 3_600_000_000

export function newHistogram(): Histogram {
  return hdr.build({lowestDiscernibleValue: 1, highestTrackableValue: MAX_US, numberOfSignificantValueDigits: 3})
}

export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.min(MAX_US, Math.max(1, Math.round(ms * 1000))))
}

export function mergeHistograms(hs: Histogram[]): Histogram {
  const out = newHistogram()
  for (const h of hs) out.add(h)
  return out
}

const ms = (us: number) => us / 1000

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return {meanMs: NaN, stdevMs: NaN, minMs: NaN, maxMs: NaN, p50Ms: NaN, p90Ms: NaN, p95Ms: NaN, p99Ms: NaN, p999Ms: NaN}
  return {
    meanMs: ms(h.mean),
    stdevMs: ms(h.stdDeviation),
    minMs: ms(h.minNonZeroValue),
    maxMs: ms(h.maxValue),
    p50Ms: ms(h.getValueAtPercentile(50)),
    p90Ms: ms(h.getValueAtPercentile(90)),
    p95Ms: ms(h.getValueAtPercentile(95)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    p999Ms: ms(h.getValueAtPercentile(99.9)),
  }
}
