/** `tfsopt prune`: prune an ONNX model, prove it runs, measure it against the original, write it. */
import {writeModelBytes} from '../../models/memory-files.js'
import {sealedOutput, type SealedOutput} from './sealed-output.js'
import {detectModel, type DetectedModel} from '../../models/detect.js'
import {encodeModel, readModel} from '../../models/onnx/proto.js'
import {elementCount, tensorDims} from '../../models/onnx/tensor.js'
import {TfsoptError} from '../../errors.js'
import {cloneModel, constantsToInitializers} from '../onnx/graph.js'
import {feedBatches, runAll} from '../evaluate/run.js'
import {nothingChanged} from '../onnx/plan.js'
import {pruneOnnx, type ActivationStats, type LayerReport, type PruneMethod, type StatsHook} from '../prune/onnx-prune.js'
import {checkOutput, commit, discard, modelSize, tempSibling, type SizeInfo} from './files.js'
import {headOf, loadOptional, syntheticDataset} from './data.js'
import type {Dataset} from '../../data/dataset.js'
import {probeTensors} from '../onnx/probe.js'
import type {TensorInfo} from '../../models/dtypes.js'
import {measure, open, smokeTest} from './measure.js'
import type {OptimizeReport} from './quantize.js'
import {slowdownWarnings} from './warnings.js'

export interface PruneArgs {
  input: string
  out: string
  sparsity: number
  method: PruneMethod
  scope: 'layer' | 'global'
  pattern?: string
  include?: string[]
  exclude?: string[]
  evalData?: string
  /** inputs for the activation statistics of structured pruning (default: --eval-data) */
  calibrationData?: string
  calibrationSamples?: number
  /** false: rank by weights only and fold nothing into biases, even with data */
  dataAware?: boolean
  force?: boolean
  threads?: number
  latencyBatches?: number[]
  log?: (m: string) => void
}

export type PruneReport = OptimizeReport & {layers: LayerReport[]; verdict: string}

export function parsePattern(p: string): {n: number; m: number} {
  const m = /^(\d+):(\d+)$/.exec(p.trim())
  if (!m || Number(m[1]) < 1 || Number(m[1]) >= Number(m[2])) throw new TfsoptError('E_USAGE', `--pattern ${p}: expected N:M with 1 ≤ N < M, e.g. 2:4`)
  return {n: Number(m[1]), m: Number(m[2])}
}

export async function pruneModel(a: PruneArgs): Promise<PruneReport> {
  const det = detectModel(a.input)
  if (det.format !== 'onnx')
    throw new TfsoptError('E_UNSUPPORTED', `tfsopt prune works on ONNX models; ${a.input} is ${det.format} (convert it to ONNX, e.g. with tf2onnx)`)
  if (a.method !== 'n:m' && !(a.sparsity > 0 && a.sparsity < 1)) throw new TfsoptError('E_USAGE', `--sparsity must be in (0, 1), got ${a.sparsity}`)
  const nm = parsePattern(a.pattern ?? '2:4')
  checkOutput(det.sealed?.container ?? det.path, a.out, !!a.force)
  // An encrypted input: read in memory, the result encrypted with the same key (sealed-output.ts).
  const sealed = det.sealed ? sealedOutput({...det, sealed: det.sealed}, a.out, 'prune') : undefined
  try {
    return await pruneWith(a, det, nm, sealed)
  } finally {
    sealed?.close()
  }
}

async function pruneWith(a: PruneArgs, det: DetectedModel, nm: {n: number; m: number}, sealed: SealedOutput | undefined): Promise<PruneReport> {
  const log = a.log ?? (() => {})
  const threads = a.threads ?? 1
  const evalDs = loadOptional(a.evalData, '--eval-data')
  const calibDs = loadOptional(a.calibrationData, '--calibration-data')
  const model = readModel(det.path)
  const statsNotes: string[] = []
  let stats: StatsHook | undefined
  if (a.method === 'structured' && a.dataAware !== false) {
    const src = calibDs ?? evalDs
    if (src) {
      const ds = headOf(src, a.calibrationSamples ?? 512)
      const s0 = await open(det.path, threads)
      const inputs = s0.inputs
      await s0.dispose()
      stats = (m, tensor) => activationStats(m, tensor, ds, inputs, threads)
      statsNotes.push(
        `structured: neurons/filters ranked by activation variance × outgoing weight norm² on ${ds.count} samples of ${ds.source}, and their mean activation folded into the next layer's bias (mean replacement)${calibDs ? '' : '; no --calibration-data, so the statistics come from --eval-data (the accuracy is then measured on the samples the means came from)'}`,
      )
    } else
      statsNotes.push(
        'structured: no --calibration-data or --eval-data, so neurons/filters are ranked by the L2 norm of their incoming weights and nothing is folded into the next bias (give data for mean replacement)',
      )
  } else if (a.method === 'structured')
    statsNotes.push(
      'structured: --no-data-aware, so neurons/filters are ranked by the L2 norm of their incoming weights and nothing is folded into the next bias',
    )
  const {
    model: pruned,
    plan,
    layers,
  } = await pruneOnnx(model, {
    method: a.method,
    sparsity: a.sparsity,
    scope: a.scope,
    n: nm.n,
    m: nm.m,
    filter: {include: a.include, exclude: a.exclude},
    stats,
  })
  if (!plan.changed.length) throw nothingChanged(plan, a.input, `pruned with --method ${a.method}`)
  const orig = await open(det.path, threads)
  const tmp = sealed ? sealed.finalTmp() : tempSibling(a.out)
  let committed = false
  try {
    const ds = evalDs ?? syntheticDataset(orig.inputs)
    const notes = evalDs ? [] : ['no --eval-data: fidelity and latency measured on synthetic uniform[0,1) inputs']
    log(`running the original on ${ds.count} samples of ${ds.source}`)
    const ref = await runAll(orig, ds)
    writeModelBytes(tmp, encodeModel(pruned))
    const cand = await smokeTest(tmp, ds, threads)
    log('measuring fidelity and latency against the original')
    const measurement = await measure(orig, cand, ds, ds, {threads, batches: a.latencyBatches ?? [1, 32], refOutputs: ref})
    await cand.dispose()
    const {before, after} = sealed ? sealed.commit(tmp, a.out, det.path) : commitPlain(tmp, a.out, det.path)
    committed = true
    const withInits = cloneModel(model)
    constantsToInitializers(withInits)
    const total = (withInits.graph!.initializer ?? []).reduce((s, t) => s + elementCount(tensorDims(t)), 0)
    const after32 = measurement.latency.find((l) => l.batch === 32) ?? measurement.latency[measurement.latency.length - 1]
    const r = after32 ? after32.ratio : 1
    const verdict =
      a.method === 'structured'
        ? `structured pruning changed the layer shapes: latency ×${r.toFixed(2)} at batch ${after32?.batch}, size ×${(after.bytes / before.bytes).toFixed(2)}`
        : r > 0.95
          ? `unstructured sparsity does not speed up dense kernels: latency ×${r.toFixed(2)} at batch ${after32?.batch}; the zeros only help once the file is compressed (gzip ×${(after.gzipBytes / before.gzipBytes).toFixed(2)})`
          : `latency ×${r.toFixed(2)} at batch ${after32?.batch} (dense kernels do not skip zeros; treat small differences as noise)`
    return {
      command: 'prune',
      input: det.path,
      output: a.out,
      format: 'onnx',
      mode: a.method === 'n:m' ? `n:m ${nm.n}:${nm.m}` : `${a.method}${a.method === 'magnitude' ? ` (${a.scope})` : ''} ${a.sparsity}`,
      size: {before, after, ratio: after.bytes / before.bytes, gzipRatio: after.gzipBytes / before.gzipBytes},
      parameters: {total, changed: total - cloneParams(pruned)},
      changed: plan.changed,
      skipped: plan.skipped,
      notes: [...notes, ...statsNotes, ...plan.notes],
      measurement,
      warnings: slowdownWarnings(measurement.latency, 'pruned model', threads),
      layers,
      verdict,
    }
  } finally {
    if (!committed) discard(tmp)
    await orig.dispose()
  }
}

/** Per-feature mean and variance of one tensor over a dataset, run in batches of 64 (float64 sums). */
export async function activationStats(
  model: ReturnType<typeof readModel>,
  tensor: string,
  ds: Dataset,
  inputs: TensorInfo[],
  threads: number,
): Promise<ActivationStats | undefined> {
  const batches = feedBatches(ds, inputs, ds.count, 64)
  let sum: Float64Array | undefined
  let sq: Float64Array | undefined
  let n = 0
  let bad = false
  await probeTensors(
    model,
    batches,
    [tensor],
    (_name, dtype, data, dims) => {
      const rows = dims[0] ?? 0
      if (dtype !== 'float32' || !rows || data.length % rows) {
        bad = true
        return
      }
      const per = data.length / rows
      sum ??= new Float64Array(per)
      sq ??= new Float64Array(per)
      if (sum.length !== per) {
        bad = true
        return
      }
      for (let r = 0; r < rows; r++)
        for (let f = 0; f < per; f++) {
          const v = data[r * per + f]!
          sum[f]! += v
          sq![f]! += v * v
        }
      n += rows
    },
    threads,
  )
  if (bad || !sum || !n) return undefined
  const mean = new Float64Array(sum.length)
  const variance = new Float64Array(sum.length)
  for (let f = 0; f < sum.length; f++) {
    mean[f] = sum[f]! / n
    variance[f] = Math.max(0, sq![f]! / n - mean[f]! ** 2)
  }
  return {mean, variance, samples: n}
}

/** Non-zero parameters left (what `changed` = removed or zeroed is measured against). */
function cloneParams(m: ReturnType<typeof readModel>): number {
  let nz = 0
  for (const t of m.graph!.initializer ?? []) {
    const n = elementCount(tensorDims(t))
    if (t.dataType !== 1) {
      nz += n
      continue
    }
    const f = new Float32Array(Uint8Array.prototype.slice.call(t.rawData ?? new Uint8Array()).buffer)
    if (f.length !== n) {
      nz += n
      continue
    }
    for (const v of f) if (v !== 0) nz++
  }
  return nz
}

function commitPlain(tmp: string, out: string, input: string): {before: SizeInfo; after: SizeInfo} {
  commit(tmp, out)
  return {before: modelSize(input), after: modelSize(out)}
}
