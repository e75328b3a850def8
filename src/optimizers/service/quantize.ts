/**
 * `tfsopt quantize`: pick the transform for the model's format and mode, build it, prove the result
 * loads and runs, measure it against the original in the same process, optionally fall nodes back to
 * float32 until an accuracy budget holds, and only then move it into place.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {detectModel} from '../../models/detect.js'
import {TfsoptError} from '../../errors.js'
import type {Dataset} from '../../data/dataset.js'
import type {Device, InferenceSession} from '../../runtime/types.js'
import {runAll, type Outputs} from '../evaluate/run.js'
import {argmaxRows, accuracy} from '../evaluate/metrics.js'
import type {QType} from '../quant/math.js'
import type {CalibrationMethod} from '../quant/calibration.js'
import {nothingChanged, type ChangedEntry, type SkippedEntry} from '../onnx/plan.js'
import {checkOutput, commit, discard, modelSize, tempSibling, trackTemp, type SizeInfo} from './files.js'
import {headOf, loadOptional, syntheticDataset} from './data.js'
import {measure, open, smokeTest, type Measurement} from './measure.js'
import {onnxBuilder, tfjsBuilder, type Builder, type OnnxMode, type Params} from './candidate.js'
import {accuracyAwareFallback, type FallbackResult} from './accuracy-aware.js'
import {AUTO_HINT, slowdownWarnings} from './warnings.js'
import {autoQuantize, type AutoReport} from './auto.js'
import type {Objective} from './auto-select.js'
import {defaultThreads} from '../../server/default-threads.js'
import {sealedOutput, type SealedOutput} from './sealed-output.js'

export interface QuantizeArgs {
  input: string
  out: string
  mode?: string
  perChannel?: boolean
  reduceRange?: boolean
  weightType?: QType
  activationType?: QType
  calibrationData?: string
  calibrationMethod?: CalibrationMethod
  percentile?: number
  calibrationSamples?: number
  opTypes?: string[]
  include?: string[]
  exclude?: string[]
  evalData?: string
  maxAccuracyDrop?: number
  /** at most this many float32-fallback trials (each re-measures accuracy); default: until every unit is float */
  maxTrials?: number
  force?: boolean
  /** ONNX only: replace internal tensor names by short ids (see onnx/strip-names.ts) */
  stripNames?: boolean
  threads?: number
  /** Where both models' latency is measured (default cpu). */
  device?: Device
  latencyBatches?: number[]
  /** --mode auto: what to optimise among admissible candidates (default latency) */
  objective?: Objective
  /** --mode auto: fidelity budget, cosine against float32 on the data (default 0.99) */
  minCosine?: number
  log?: (msg: string) => void
}

export interface OptimizeReport {
  command: 'quantize' | 'prune'
  input: string
  output: string
  format: 'onnx' | 'tfjs'
  mode: string
  size: {before: SizeInfo; after: SizeInfo; ratio: number; gzipRatio: number}
  parameters: Params
  changed: ChangedEntry[]
  skipped: SkippedEntry[]
  notes: string[]
  measurement: Measurement
  /** Problems with the result itself (e.g. slower than the input at a measured batch); also printed. */
  warnings: string[]
  /** --mode auto: every candidate's per-node timings and the choice */
  auto?: AutoReport
  accuracyAware?: {budget: number; met: boolean; keptFloat: string[]; ranking: FallbackResult['ranking']; trials: FallbackResult['trials']}
}

const ONNX_MODES = ['dynamic', 'static', 'weight-only', 'float16', 'auto']

/**
 * uint8 activations (U8S8) by default, also for static, where ORT's quantize_static defaults to int8
 * (S8S8). onnxruntime's CPU provider turns S8 Q/DQ pairs into U8 only where a Q feeds one DQ; a tensor
 * read by several ops keeps its int8 pair, and a Conv between a converted and an unconverted pair is left
 * unfused, as DQ→Conv→Q in float. On PP-OCRv4's detector (hardswish reads every conv output twice) that
 * fused 24 of 62 convs with int8 activations and 62 of 62 with uint8: batch-1 latency ×2.10 against
 * ×1.03 of float32, same cosine (docs/BENCHMARKS.md). The MNIST and MatMul-heavy fixtures measure the
 * same either way. `--activation-type int8` gives ORT's default.
 */
export const DEFAULT_ACTIVATION_TYPE = 'uint8'
const TFJS_MODES = ['uint8', 'uint16', 'float16']

export async function quantizeModel(a: QuantizeArgs): Promise<OptimizeReport> {
  const log = a.log ?? (() => {})
  const det = detectModel(a.input)
  if (det.format === 'savedmodel')
    throw new TfsoptError(
      'E_UNSUPPORTED',
      `${a.input} is a TensorFlow SavedModel; tfsopt quantises ONNX and TF.js models — convert it first (tf2onnx or tensorflowjs_converter)`,
    )
  const format = det.format
  const mode = a.mode ?? (format === 'onnx' ? 'dynamic' : 'uint8')
  const modes = format === 'onnx' ? ONNX_MODES : TFJS_MODES
  if (!modes.includes(mode)) throw new TfsoptError('E_USAGE', `--mode ${mode} does not apply to ${format} models; use one of ${modes.join(', ')}`)
  if (mode !== 'auto' && (a.objective !== undefined || a.minCosine !== undefined))
    throw new TfsoptError('E_USAGE', '--objective and --min-cosine steer --mode auto; add --mode auto or drop them')
  if (mode === 'auto' && a.maxTrials !== undefined)
    throw new TfsoptError('E_USAGE', '--max-trials bounds the float32-fallback search of the fixed modes; --mode auto holds --max-accuracy-drop itself')
  if (a.maxTrials !== undefined && a.maxAccuracyDrop === undefined)
    throw new TfsoptError('E_USAGE', '--max-trials limits the accuracy-aware search; it needs --max-accuracy-drop')
  if (a.maxAccuracyDrop !== undefined && !a.evalData) throw new TfsoptError('E_USAGE', '--max-accuracy-drop needs --eval-data with labels to measure accuracy')
  checkOutput(det.sealed?.container ?? det.path, a.out, !!a.force)
  // auto chooses for the settings the model will be served with: `tfsopt serve`'s intra-op default
  const threads = a.threads ?? (mode === 'auto' ? defaultThreads().intraOpThreads : 1)

  const evalDs = loadOptional(a.evalData, '--eval-data')
  let calibDs = loadOptional(a.calibrationData, '--calibration-data')
  if (a.maxAccuracyDrop !== undefined && !evalDs?.labels)
    throw new TfsoptError('E_USAGE', `--max-accuracy-drop needs labels in --eval-data (${a.evalData} has none)`)
  const notes: string[] = []
  if (mode === 'auto' && !calibDs && evalDs) {
    calibDs = evalDs
    notes.push('no --calibration-data: static QDQ candidates calibrated on --eval-data')
  }
  if (mode === 'static' && !calibDs) {
    if (!evalDs) throw new TfsoptError('E_USAGE', '--mode static needs --calibration-data (representative inputs to measure activation ranges)')
    calibDs = evalDs
    notes.push('no --calibration-data: calibrated on --eval-data')
  }
  if (format === 'tfjs' && a.stripNames)
    throw new TfsoptError(
      'E_USAGE',
      "--strip-names applies to ONNX models; a TF.js model's weight names are how its topology finds its weights, so they cannot be renamed",
    )
  if (format === 'tfjs' && (a.calibrationData || a.perChannel || a.opTypes))
    notes.push(
      'TF.js weight quantisation ignores --calibration-data, --per-channel and --op-types (weights are quantised per tensor, selected by --include/--exclude)',
    )

  // An encrypted input: decrypted into memory, candidates kept in memory, the result encrypted (sealed-output.ts).
  const sealed: SealedOutput | undefined = det.sealed ? sealedOutput({...det, sealed: det.sealed}, a.out, 'quantize') : undefined
  const newFinalTmp = () => (sealed ? sealed.finalTmp() : tempSibling(a.out))
  const commitOutput = (tmp: string): {before: SizeInfo; after: SizeInfo} => {
    if (sealed) return sealed.commit(tmp, a.out, det.path)
    commit(tmp, a.out)
    return {before: modelSize(det.path), after: modelSize(a.out)}
  }
  let orig: InferenceSession
  try {
    orig = await open(det.path, threads, a.device)
  } catch (err) {
    sealed?.close()
    throw err
  }
  const work = sealed ? sealed.work : trackTemp(mkdtempSync(join(tmpdir(), 'tfsopt-q-')))
  let finalTmp: string | undefined
  try {
    const ds: Dataset = evalDs ?? calibDs ?? syntheticDataset(orig.inputs)
    if (!evalDs && !calibDs) notes.push('no --eval-data: fidelity and latency measured on synthetic uniform[0,1) inputs')
    const filter = {include: a.include, exclude: a.exclude}
    const makeBuilder = async (): Promise<{build: Builder; params: (p: ReturnType<Builder>['plan']) => Params}> => {
      if (format !== 'onnx') return tfjsBuilder(det.path, mode as 'uint8', filter)
      const r = await onnxBuilder({
        path: det.path,
        mode: mode as OnnxMode,
        session: orig,
        threads,
        probeDs: ds,
        stripNames: a.stripNames,
        quant: {
          opTypes: a.opTypes,
          filter,
          perChannel: !!a.perChannel,
          reduceRange: !!a.reduceRange,
          weightType: a.weightType ?? 'int8',
          activationType: a.activationType ?? DEFAULT_ACTIVATION_TYPE,
        },
        calibration: calibDs
          ? {ds: calibDs, method: a.calibrationMethod ?? 'minmax', percentile: a.percentile ?? 99.999, samples: a.calibrationSamples ?? 128}
          : undefined,
      })
      notes.push(...r.notes)
      return r
    }
    const nothingToQuantise = (plan: ReturnType<Builder>['plan']) => nothingChanged(plan, a.input, `quantised with --mode ${mode}`)
    // Modes that change weights only are planned without running the model: when no weight qualifies,
    // say so before any data is run (float16 probes value ranges and static calibrates first).
    const plannedFirst = format === 'tfjs' || mode === 'dynamic' || mode === 'weight-only'
    let builder = plannedFirst ? await makeBuilder() : undefined
    let first = builder?.build(new Set())
    if (first && !first.plan.changed.length) throw nothingToQuantise(first.plan)

    log(`running the original on ${ds.count} samples of ${ds.source}`)
    const ref = await runAll(orig, ds)
    if (calibDs && calibDs !== ds) await runAll(orig, calibDs, 1, 1)
    if (mode === 'auto') {
      const quant = {
        opTypes: a.opTypes,
        filter,
        perChannel: false,
        reduceRange: !!a.reduceRange,
        weightType: a.weightType ?? 'int8',
        activationType: a.activationType ?? DEFAULT_ACTIVATION_TYPE,
      }
      // With labels, auto also holds accuracy: --max-accuracy-drop, else the 0.5 point issue 17 sets.
      const accBudget = evalDs?.labels ? (a.maxAccuracyDrop ?? 0.5) / 100 : undefined
      const res = await autoQuantize({
        path: det.path,
        orig,
        ds,
        ref,
        calibration: calibDs
          ? {ds: calibDs, method: a.calibrationMethod ?? 'minmax', percentile: a.percentile ?? 99.999, samples: a.calibrationSamples ?? 128}
          : undefined,
        quant,
        stripNames: a.stripNames,
        threads,
        batches: a.latencyBatches ?? [1, 32],
        device: a.device,
        work,
        objective: a.objective ?? 'latency',
        minCosine: a.minCosine ?? 0.99,
        maxAccuracyDrop: accBudget,
        force: !!a.force,
        log,
      })
      finalTmp = newFinalTmp()
      const final = res.builder(res.keep)
      final.write(finalTmp)
      await (await smokeTest(finalTmp, ds, threads, a.device)).dispose()
      const {before, after} = commitOutput(finalTmp)
      finalTmp = undefined
      return {
        command: 'quantize',
        input: det.path,
        output: a.out,
        format,
        mode,
        size: {before, after, ratio: after.bytes / before.bytes, gzipRatio: after.gzipBytes / before.gzipBytes},
        parameters: res.params(final.plan),
        changed: final.plan.changed,
        // the builders word a kept node as the accuracy-aware fallback's; here auto's measurement decided
        skipped: final.plan.skipped.map((x) =>
          res.keep.has(x.node) ? {...x, reason: 'kept in float32 by --mode auto: not faster (or outside the budget), see the auto table'} : x,
        ),
        notes: [...notes, ...res.notes, ...final.plan.notes],
        measurement: res.measurement,
        warnings: slowdownWarnings(res.measurement.latency, `auto (${res.report.chosen}) model`, threads),
        auto: res.report,
      }
    }
    builder ??= await makeBuilder()

    let n = 0
    const candidatePath = () => join(work, format === 'onnx' ? `candidate-${n++}.onnx` : `candidate-${n++}`)
    const tryBuild = async (
      keep: Set<string>,
      built = builder.build(keep),
    ): Promise<{plan: ReturnType<Builder>['plan']; path: string; session: InferenceSession}> => {
      const p = candidatePath()
      built.write(p)
      const session = await smokeTest(format === 'onnx' ? p : join(p, 'model.json'), ds, threads, a.device)
      return {plan: built.plan, path: p, session}
    }

    log(`quantising (${format} ${mode})`)
    first ??= builder.build(new Set())
    if (!first.plan.changed.length) throw nothingToQuantise(first.plan)
    let cand = await tryBuild(new Set(), first)
    const units = cand.plan.changed.map((c) => c.node)
    let fallback: FallbackResult | undefined
    if (a.maxAccuracyDrop !== undefined) {
      const baseline = accuracy(argmaxRows(ref.data[ref.names[0]!]!, ref.rows), evalDs!.labels!)
      const accOf = async (s: InferenceSession) => {
        const o = await runAll(s, evalDs!)
        return accuracy(argmaxRows(o.data[o.names[0]!]!, o.rows), evalDs!.labels!)
      }
      const firstAcc = await accOf(cand.session)
      const rankDs = headOf(evalDs!, 256)
      const refRank: Outputs = await runAll(orig, rankDs)
      const sessions: InferenceSession[] = []
      const cache = new Map<string, {path: string; session: InferenceSession; plan: typeof cand.plan}>()
      log(`accuracy ${(firstAcc * 100).toFixed(2)}% vs ${(baseline * 100).toFixed(2)}% (budget ${a.maxAccuracyDrop} points)`)
      fallback = await accuracyAwareFallback(
        units,
        baseline,
        refRank.data[refRank.names[0]!]!,
        a.maxAccuracyDrop / 100,
        {keptFloat: [], accuracy: firstAcc, drop: baseline - firstAcc},
        {
          outputWith: async (keep) => {
            const c = await tryBuild(keep)
            sessions.push(c.session)
            const o = await runAll(c.session, rankDs)
            return o.data[o.names[0]!]!
          },
          accuracyWith: async (keep) => {
            const c = await tryBuild(keep)
            cache.set([...keep].sort().join('\n'), c)
            const acc = await accOf(c.session)
            log(`  float32 fallback of ${keep.size} unit(s): accuracy ${(acc * 100).toFixed(2)}%`)
            return acc
          },
        },
        a.maxTrials,
      )
      for (const s of sessions) await s.dispose()
      const key = [...fallback.best.keptFloat].sort().join('\n')
      const chosen = cache.get(key)
      if (chosen) {
        await cand.session.dispose()
        cand = chosen
      }
      for (const [k, c] of cache) if (k !== key) await c.session.dispose()
    }

    log('measuring fidelity and latency against the original')
    const measurement = await measure(orig, cand.session, ds, ds, {threads, batches: a.latencyBatches ?? [1, 32], refOutputs: ref})
    await cand.session.dispose()

    // Into place: a temporary sibling of --out, checked once more where it will live, then renamed.
    finalTmp = newFinalTmp()
    const keep = new Set(fallback?.best.keptFloat ?? [])
    const final = builder.build(keep)
    final.write(finalTmp)
    await (await smokeTest(format === 'onnx' ? finalTmp : join(finalTmp, 'model.json'), ds, threads, a.device)).dispose()
    const {before, after} = commitOutput(finalTmp)
    finalTmp = undefined
    return {
      command: 'quantize',
      input: det.path,
      output: a.out,
      format,
      mode,
      size: {before, after, ratio: after.bytes / before.bytes, gzipRatio: after.gzipBytes / before.gzipBytes},
      parameters: builder.params(final.plan),
      changed: final.plan.changed,
      skipped: final.plan.skipped,
      notes: [...notes, ...final.plan.notes],
      measurement,
      warnings: slowdownWarnings(measurement.latency, `${mode} model`, threads, AUTO_HINT),
      accuracyAware:
        fallback && a.maxAccuracyDrop !== undefined
          ? {budget: a.maxAccuracyDrop, met: fallback.met, keptFloat: fallback.best.keptFloat, ranking: fallback.ranking, trials: fallback.trials}
          : undefined,
    }
  } finally {
    if (finalTmp) discard(finalTmp)
    discard(work)
    await orig.dispose()
    sealed?.close()
  }
}
