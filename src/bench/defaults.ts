/**
 * The default sweep (`tfsopt bench --sweep`, or `tfsopt bench` with no model, URL or load flags):
 * closed-loop concurrency 1…32 against the bundled MNIST model with batching off and on. 12 points of
 * 4–7 s each (1 s warm-up + 3 to 6 one-second windows) plus two server starts. Measured: 91 s wall with
 * every point unstable, i.e. all at the 6-window limit, the worst case (2 cores, load average 6.3–7.8;
 * docs/BENCHMARKS.md): within the two-minute target, so no change.
 */
export const DEFAULT_SWEEP = {
  concurrency: [1, 2, 4, 8, 16, 32],
  maxBatchSize: [1, 32],
  warmupS: 1,
  windowS: 1,
  windows: 3,
  maxWindows: 6,
}
