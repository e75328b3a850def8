/**
 * The default sweep (`tfsopt bench --sweep`, or `tfsopt bench` with no model, URL or load flags):
 * closed-loop concurrency 1…32 against the bundled MNIST model with batching off and on. 12 points of
 * about 4–7 s each plus two server starts: about two minutes on a 2-core machine.
 */
export const DEFAULT_SWEEP = {
  concurrency: [1, 2, 4, 8, 16, 32],
  maxBatchSize: [1, 32],
  warmupS: 1,
  windowS: 1,
  windows: 3,
  maxWindows: 6,
}
