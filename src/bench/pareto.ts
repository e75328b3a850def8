/**
 * The Pareto front of throughput (higher is better) against p99 latency (lower is better): the points
 * no other point beats on both. Unlike Model Analyzer's "only where throughput rises" plot, a point is
 * kept only if nothing has at least its throughput at no more than its p99 (and strictly better in one).
 */
export interface FrontInput {
  id: string
  throughput: number
  p99Ms: number
}

export function paretoFront<T extends FrontInput>(points: T[]): T[] {
  const ok = points.filter((p) => Number.isFinite(p.throughput) && Number.isFinite(p.p99Ms))
  return ok
    .filter((p) => !ok.some((q) => q !== p && q.throughput >= p.throughput && q.p99Ms <= p.p99Ms && (q.throughput > p.throughput || q.p99Ms < p.p99Ms)))
    .sort((a, b) => a.throughput - b.throughput)
}
