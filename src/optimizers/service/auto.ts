/**
 * `quantize --mode auto` (ONNX): choose each node's precision by measuring, not by op type.
 *
 * onnxruntime's int8 kernels pay off for some ops, shapes, batch sizes and thread counts and not for
 * others (dynamic int8: the MNIST MLP ×0.55 at batch 32, the MNIST CNN ×5.2 slower), so for every
 * candidate mode (dynamic int8; static QDQ int8 per tensor and per channel when calibration data is
 * there; float16 only off CPU, where a provider runs it natively):
 *  1. screen: quantise each node alone and time the whole model against float32 (alternating runs at
 *     every `--latency-batches` size, `--threads` intra-op threads) and take its cosine — end-to-end
 *     timing sees what the per-node profile cannot: the Q/DQ and Cast nodes a choice adds around it and
 *     the fusions it breaks or enables;
 *  2. combine the nodes that were faster alone, verify the combined model end to end (latency at every
 *     batch, fidelity, accuracy), and back off one node at a time (smallest solo gain, or lowest cosine)
 *     until it is not slower at any batch and within budget;
 *  3. pick the best admissible candidate under `--objective`.
 * The verification measurement of the winner is the one reported, so the promise "never slower than
 * the input at a measured batch" holds in the tool's own figures. When nothing beats float32, nothing is
 * written (exit 1) unless --force.
 */
import {modelFileSize} from '../../models/memory-files.js'
import {join} from 'node:path'
import type {Dataset} from '../../data/dataset.js'
import type {Device, InferenceSession} from '../../runtime/types.js'
import {TfsoptError} from '../../errors.js'
import {compareLatency, runAll, type Outputs} from '../evaluate/run.js'
import {fidelity} from '../evaluate/metrics.js'
import {fixedBatch} from '../../models/dtypes.js'
import {onnxBuilder, type Builder, type Built, type OnnxBuildInput, type OnnxMode, type Params} from './candidate.js'
import {headOf} from './data.js'
import {measure, smokeTest, type Measurement} from './measure.js'
import {admissible, backoffOrder, keepsSpeed, pickCandidate, type Objective, type SoloFigure} from './auto-select.js'

export interface AutoArgs {
  path: string
  orig: InferenceSession
  ds: Dataset
  ref: Outputs
  calibration?: OnnxBuildInput['calibration']
  quant: OnnxBuildInput['quant']
  stripNames?: boolean
  threads: number
  batches: number[]
  device?: Device
  work: string
  objective: Objective
  minCosine: number
  /** accuracy budget as a fraction (0.005 = 0.5 points); only with labelled data */
  maxAccuracyDrop?: number
  force: boolean
  log: (m: string) => void
}

export interface AutoCandidate {
  name: string
  mode: OnnxMode
  perChannel: boolean
  /** each quantisable node measured alone in this mode: latency ratio per batch, cosine, kept or not */
  nodes: (SoloFigure & {kept: boolean})[]
  /** nodes that were faster alone but returned to float32 when the combined model was verified */
  backedOff: {node: string; why: 'slower' | 'fidelity'}[]
  /** the verified combined model, when one was built */
  ratios?: number[]
  cosine?: number
  accuracyDrop?: number
  sizeRatio?: number
  admissible: boolean
  reason?: string
}

export interface AutoReport {
  objective: Objective
  threads: number
  batches: number[]
  budget: {minCosine: number; maxAccuracyDrop?: number}
  candidates: AutoCandidate[]
  chosen?: string
  seconds: number
}

export interface AutoResult {
  builder: Builder
  params: (p: Built['plan']) => Params
  keep: Set<string>
  measurement: Measurement
  report: AutoReport
  notes: string[]
}

/** Short screening runs: enough to tell ×0.5 from ×2; the combined model gets the full budget. */
const SCREEN = {budgetMs: 200, maxRuns: 60, minRuns: 15}
const SCREEN_SAMPLES = 64
/** a verified ratio in (1, this] is measured again before a node is backed off */
const RECHECK_BELOW = 1.1

export async function autoQuantize(a: AutoArgs): Promise<AutoResult> {
  const t0 = Date.now()
  const fixed = fixedBatch(a.orig.inputs)
  const batches = fixed ? [fixed] : a.batches
  const specs: {name: string; mode: OnnxMode; perChannel: boolean}[] = [{name: 'dynamic', mode: 'dynamic', perChannel: false}]
  if (a.calibration) specs.push({name: 'static', mode: 'static', perChannel: false}, {name: 'static per-channel', mode: 'static', perChannel: true})
  const notes: string[] = []
  if (a.orig.device !== 'cpu') specs.push({name: 'float16', mode: 'float16', perChannel: false})
  else notes.push("auto: float16 not tried (onnxruntime's CPU provider has no native float16 kernels for most ops; it is not faster there)")
  if (!a.calibration) notes.push('auto: static QDQ not tried (no --calibration-data or --eval-data)')
  const screenDs = headOf(a.ds, SCREEN_SAMPLES)
  const screenRef = await runAll(a.orig, screenDs)
  const firstOut = (o: Outputs) => o.data[o.names[0]!]!
  const origBytes = modelFileSize(a.path)
  let n = 0
  const built: {c: AutoCandidate; builder: Builder; params: AutoResult['params']; keep: Set<string>; m?: Measurement}[] = []

  const openBuilt = async (b: Built): Promise<{session: InferenceSession; file: string}> => {
    const file = join(a.work, `auto-${n++}.onnx`)
    b.write(file)
    return {session: await smokeTest(file, a.ds, a.threads, a.device), file}
  }

  for (const spec of specs) {
    const c: AutoCandidate = {...spec, nodes: [], backedOff: [], admissible: false}
    let r: Awaited<ReturnType<typeof onnxBuilder>>
    try {
      r = await onnxBuilder({
        path: a.path,
        mode: spec.mode,
        session: a.orig,
        threads: a.threads,
        probeDs: a.ds,
        stripNames: a.stripNames,
        quant: {...a.quant, perChannel: spec.perChannel},
        calibration: spec.mode === 'static' ? a.calibration : undefined,
      })
    } catch (err) {
      c.reason = `could not be built: ${(err as Error).message.split('\n')[0]}`
      built.push({c, builder: () => ({plan: {changed: [], skipped: [], notes: []}, write: () => {}}), params: () => ({total: 0, changed: 0}), keep: new Set()})
      continue
    }
    const changed = r.build(new Set()).plan.changed
    const units = changed.map((x) => x.node)
    const groups = groupUnits(changed)
    const members = (labels: Iterable<string>) => new Set([...labels].flatMap((l) => groups.get(l)!))
    const entry = {c, builder: r.build, params: r.params, keep: new Set(units) as Set<string>, m: undefined as Measurement | undefined}
    built.push(entry)
    if (!units.length) {
      c.reason = 'nothing to quantise in this mode'
      continue
    }
    a.log(`auto: ${spec.name}: timing ${groups.size} node group(s) one at a time at batch ${batches.join(', ')}`)
    for (const u of groups.keys()) {
      const alone = groups.get(u)!
      const {session} = await openBuilt(r.build(new Set(units.filter((x) => !alone.includes(x)))))
      try {
        const ratios: number[] = []
        for (const b of batches) ratios.push((await compareLatency(a.orig, session, a.ds, b, SCREEN)).ratio)
        const cosine = fidelity(firstOut(screenRef), firstOut(await runAll(session, screenDs)), screenRef.rows).cosineSimilarity
        const solo = {node: u, ratios, cosine}
        c.nodes.push({...solo, kept: keepsSpeed(solo, a.minCosine, a.objective === 'size')})
      } finally {
        await session.dispose()
      }
    }
    let kept = c.nodes.filter((x) => x.kept)
    while (kept.length) {
      const on = members(kept.map((k) => k.node))
      const keep = new Set(units.filter((u) => !on.has(u)))
      const b = r.build(keep)
      const {session, file} = await openBuilt(b)
      let m: Measurement
      try {
        m = await measure(a.orig, session, a.ds, a.ds, {threads: a.threads, batches, refOutputs: a.ref})
        // A few percent over 1 is within the noise of a shared machine: measure once more, twice as long,
        // and act on that figure (the second one, not the better one, so noise cannot pick the answer).
        if (m.latency.some((l) => l.ratio > 1 && l.ratio <= RECHECK_BELOW))
          m = await measure(a.orig, session, a.ds, a.ds, {threads: a.threads, batches, refOutputs: a.ref, latency: {budgetMs: 3000, maxRuns: 400}})
      } finally {
        await session.dispose()
      }
      const ratios = m.latency.map((l) => l.ratio)
      const accOk = a.maxAccuracyDrop === undefined || !m.accuracy || m.accuracy.drop <= a.maxAccuracyDrop
      const withinBudget = m.fidelity.cosineSimilarity >= a.minCosine && accOk
      Object.assign(c, {ratios, cosine: m.fidelity.cosineSimilarity, accuracyDrop: m.accuracy?.drop, sizeRatio: modelFileSize(file) / origBytes})
      if (admissible(ratios, withinBudget, a.objective)) {
        c.admissible = true
        entry.keep = keep
        entry.m = m
        break
      }
      const why = withinBudget ? 'slower' : 'fidelity'
      const drop = backoffOrder(kept, why)[0]!
      c.backedOff.push({node: drop, why})
      a.log(
        `  ${spec.name}: combined model ${why === 'slower' ? `×${ratios.map((x) => x.toFixed(2)).join('/')}` : 'outside the budget'}; ${drop} back to float32`,
      )
      kept = kept.filter((k) => k.node !== drop)
      for (const x of c.nodes) if (x.node === drop) x.kept = false
    }
    if (!c.admissible && !c.reason) c.reason = c.backedOff.length ? 'every faster node had to be backed off' : 'no node made the model faster on its own'
  }

  const report: AutoReport = {
    objective: a.objective,
    threads: a.threads,
    batches,
    budget: {minCosine: a.minCosine, maxAccuracyDrop: a.maxAccuracyDrop},
    candidates: built.map((b) => b.c),
    seconds: 0,
  }
  const figures = built.map((b) => ({name: b.c.name, ratios: b.c.ratios ?? [], sizeRatio: b.c.sizeRatio ?? 1, admissible: b.c.admissible, b}))
  let win = pickCandidate(figures, a.objective)?.b
  if (!win) {
    const why = built.map((b) => `${b.c.name}: ${b.c.reason}`).join('; ')
    if (!a.force)
      throw new TfsoptError(
        'E_RUNTIME',
        `--mode auto: no candidate beats float32 at batch ${batches.join(', ')} with ${a.threads} thread(s) (${why}); nothing written (--force writes the fully quantised dynamic model anyway)`,
      )
    // --force: the user asked for a quantised model regardless; the report's warnings say it is slower.
    win = built.find((b) => b.c.nodes.length) ?? built[0]!
    win.keep = new Set()
    const {session} = await openBuilt(win.builder(win.keep))
    try {
      win.m = await measure(a.orig, session, a.ds, a.ds, {threads: a.threads, batches, refOutputs: a.ref})
    } finally {
      await session.dispose()
    }
    notes.push(`auto: no candidate beats float32 (${why}); --force wrote ${win.c.name} with every node quantised`)
  }
  report.chosen = win.c.name
  report.seconds = (Date.now() - t0) / 1000
  return {builder: win.builder, params: win.params, keep: win.keep, measurement: win.m!, report, notes}
}

/**
 * Quantisation units in groups that are timed together. A QDQ Relu, Add or pool costs Q/DQ pairs on its
 * own and pays off only together with the weighted op before it (onnxruntime fuses them into one
 * QLinear kernel), so a unit without weights joins the group of the last weighted unit before it in
 * graph order (a chain Conv → Relu → MaxPool is one group). In branching graphs this is a heuristic; the
 * combined model is verified end to end either way, so a poor grouping costs speed, never the promise.
 * Labels are the weighted node's name, or the unit's own when nothing precedes it.
 */
export function groupUnits(changed: {node: string; weights: string[]}[]): Map<string, string[]> {
  const groups = new Map<string, string[]>()
  let current: string | undefined
  for (const c of changed) {
    if (c.weights.length || current === undefined) {
      current = c.node
      groups.set(current, [c.node])
    } else groups.get(current)!.push(c.node)
  }
  return groups
}
