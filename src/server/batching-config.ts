/**
 * Which batching a served model gets. Defaults suit the model: where every input and output has a
 * dynamic first dimension, batching is on with max_batch_size 64, batch_timeout_micros 0 (a batch
 * grows only while the workers are busy, so an idle server adds no delay) and 128 enqueued batches;
 * otherwise it is off and each request runs on its own. Explicit flags that cannot work are refused.
 */
import {usageError} from '../errors.js'
import {formatShape, hasDynamicBatch, type TensorInfo} from '../models/dtypes.js'
import type {BatchingConfig, BatchingFlags} from './types.js'

export const BATCHING_DEFAULTS = {maxBatchSize: 64, batchTimeoutMicros: 0, maxEnqueuedBatches: 128}
/**
 * On a GPU provider (TF Serving's batching guide: a GPU wants full batches, so a batch may wait a little
 * for company). A GPU runs one batch at a time per worker, so a short wait that fills it is cheaper than
 * another kernel launch and copy; 1 ms keeps an idle server's added latency small.
 */
export const GPU_BATCHING_DEFAULTS = {maxBatchSize: 32, batchTimeoutMicros: 1000, maxEnqueuedBatches: 128}

/** Why the model cannot be batched along dimension 0, or undefined when it can. */
export function unbatchableReason(inputs: TensorInfo[], outputs: TensorInfo[]): string | undefined {
  for (const i of inputs) if (!hasDynamicBatch(i.shape)) return `input '${i.name}' has shape ${formatShape(i.shape)}, without a dynamic first (batch) dimension`
  for (const o of outputs)
    if (o.shape !== null && !hasDynamicBatch(o.shape)) return `output '${o.name}' has shape ${formatShape(o.shape)}, without a dynamic first (batch) dimension`
  return undefined
}

export function validateFlags(f: BatchingFlags): void {
  const a = f.allowedBatchSizes
  if (f.maxBatchSize !== undefined && (!Number.isInteger(f.maxBatchSize) || f.maxBatchSize < 1))
    throw usageError(`--max-batch-size must be a positive integer, got ${f.maxBatchSize}`)
  if (f.maxEnqueuedBatches !== undefined && (!Number.isInteger(f.maxEnqueuedBatches) || f.maxEnqueuedBatches < 1))
    throw usageError(`--max-enqueued-batches must be a positive integer, got ${f.maxEnqueuedBatches}`)
  if (f.batchTimeoutMicros !== undefined && (!Number.isFinite(f.batchTimeoutMicros) || f.batchTimeoutMicros < 0))
    throw usageError(`--batch-timeout-micros must be 0 or more, got ${f.batchTimeoutMicros}`)
  if (a?.length) {
    for (let i = 0; i < a.length; i++) {
      if (!Number.isInteger(a[i]) || a[i]! < 1) throw usageError(`--allowed-batch-sizes must be positive integers, got ${a.join(',')}`)
      if (i && a[i]! <= a[i - 1]!) throw usageError(`--allowed-batch-sizes must be strictly increasing, got ${a.join(',')}`)
    }
    if (f.maxBatchSize !== undefined && a[a.length - 1] !== f.maxBatchSize) {
      throw usageError(`--allowed-batch-sizes must end with --max-batch-size (${f.maxBatchSize}), as in TF Serving; got ${a.join(',')}`)
    }
  }
}

export function resolveBatching(
  model: string,
  f: BatchingFlags,
  inputs: TensorInfo[],
  outputs: TensorInfo[],
  defaults: typeof BATCHING_DEFAULTS = BATCHING_DEFAULTS,
): BatchingConfig {
  validateFlags(f)
  const why = unbatchableReason(inputs, outputs)
  const maxEnqueuedBatches = f.maxEnqueuedBatches ?? defaults.maxEnqueuedBatches
  const wantsBatching = (f.maxBatchSize !== undefined && f.maxBatchSize > 1) || f.batchTimeoutMicros !== undefined || (f.allowedBatchSizes?.length ?? 0) > 0
  if (why) {
    if (wantsBatching)
      throw usageError(
        `model '${model}' cannot be batched: ${why}. Leave out the batching flags (batching is then off) or serve a model exported with a dynamic batch dimension`,
      )
    return {enabled: false, maxBatchSize: 0, batchTimeoutMicros: 0, maxEnqueuedBatches, allowedBatchSizes: []}
  }
  const allowed = f.allowedBatchSizes ?? []
  const maxBatchSize = f.maxBatchSize ?? (allowed.length ? allowed[allowed.length - 1]! : defaults.maxBatchSize)
  return {
    enabled: true,
    maxBatchSize,
    batchTimeoutMicros: f.batchTimeoutMicros ?? defaults.batchTimeoutMicros,
    maxEnqueuedBatches,
    allowedBatchSizes: allowed,
  }
}

export function describeBatching(b: BatchingConfig): string {
  if (!b.enabled) return `batching off (queue ${b.maxEnqueuedBatches})`
  const allowed = b.allowedBatchSizes.length ? `, allowed sizes ${b.allowedBatchSizes.join(',')}` : ''
  return `batching on: max ${b.maxBatchSize}, timeout ${b.batchTimeoutMicros} µs, queue ${b.maxEnqueuedBatches} batches${allowed}`
}
