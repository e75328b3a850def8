/** Reads one metric from a /metrics scrape with the bench's own Prometheus parser (NaN when absent). */
import {parsePrometheus, total} from '../../src/bench/scrape-metrics.js'

/** Sum of a metric over the series matching `labels`, e.g. metric(text, 'tfsopt_batches_total', {model: 'm'}). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  return total({at: 0, samples: parsePrometheus(text)}, name, labels) ?? NaN
}
