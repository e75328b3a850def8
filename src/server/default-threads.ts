import {availableParallelism} from 'node:os'

/**
 * Default threads. One core stays with the main thread, which reads every request, batches it and,
 * for JSON, scans or parses the body: with every core given to inference as well, the main thread and
 * the intra-op threads take turns on the same cores and both slow down (on 2 cores, PP-OCR det with
 * 17-digit JSON bodies served 29 req/s at 1 worker × 2 threads and 38.5 at 1 × 1: docs/SERVE.md,
 * "Default threads"). The other cores go to inference, in workers of about two intra-op threads each
 * (at least one worker), so that the busy threads — main + workers × intra-op — fit the cores. On a GPU
 * provider one worker: onnxruntime puts every session on GPU 0, and a second session there only
 * competes for the same device (and its memory) while the batcher already keeps one busy.
 */
export function defaultThreads(workers?: number, intra?: number, onGpu = false, cores = availableParallelism()): {workers: number; intraOpThreads: number} {
  const forInference = Math.max(1, cores - 1)
  const w = workers ?? (onGpu ? 1 : Math.max(1, Math.floor(forInference / 2)))
  return {workers: w, intraOpThreads: intra ?? Math.max(1, Math.floor(forInference / w))}
}
