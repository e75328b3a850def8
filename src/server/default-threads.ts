import {availableParallelism} from 'node:os'

/**
 * Default threads: half the cores as workers (at least one), the cores shared among them. On a GPU
 * provider one worker: onnxruntime puts every session on GPU 0, and a second session there only
 * competes for the same device (and its memory) while the batcher already keeps one busy.
 */
export function defaultThreads(workers?: number, intra?: number, onGpu = false, cores = availableParallelism()): {workers: number; intraOpThreads: number} {
  const w = workers ?? (onGpu ? 1 : Math.max(1, Math.floor(cores / 2)))
  return {workers: w, intraOpThreads: intra ?? Math.max(1, Math.floor(cores / w))}
}
