/**
 * The CI gate's decision: compare two bench runs point by point (same point id = same configuration)
 * and metric by metric, on the raw per-window samples.
 *
 * Decision rule (criterion.rs' two conditions, benchstat's test):
 *  - Mann-Whitney U two-sided p < alpha, AND
 *  - the whole bootstrap CI of median(new)/median(base) lies beyond the threshold in the bad
 *    direction (throughput below 1 − t; latency above 1 + t)
 *  → 'regression'. The mirror image → 'improvement'. Anything else → '~' (no change shown).
 * Requiring both keeps A/A noise from failing CI: p alone flags tiny real-but-irrelevant shifts on
 * long runs; a ratio alone flags noise on short ones.
 *
 * Sample sizes where p < alpha is unreachable are refused ('error', exit 2), never passed: a gate
 * that cannot fail is not a gate. Request errors: any in the new run fail the gate unless the
 * baseline had some too.
 */
import type {BenchRun, BenchSettings, PointResult} from '../results/bench-run.js'
import {EXIT, TfsoptError} from '../errors.js'
import {mannWhitneyU, minReachableP, minSamplesPerSide} from '../stats/mann-whitney.js'
import {bootstrapRatioOfMedians, DEFAULT_RESAMPLES, DEFAULT_SEED} from '../stats/bootstrap.js'
import {median, medianCI, type Interval} from '../stats/quantile.js'
import {METRIC_INFO, samplesOf, totalErrors, type Metric} from './metrics.js'
import {machineDiffers} from '../results/machine.js'

export type {Metric}
export type Verdict = 'regression' | 'improvement' | '~' | 'error'

export interface CompareOptions {
  metrics: Metric[]
  /** Threshold as a fraction: 0.05 = changes within ±5% are never called. */
  maxRegression: number
  alpha: number
  /** Bootstrap resamples (default 10,000). */
  resamples?: number
  /** Bootstrap seed (default fixed, so the gate is reproducible). */
  seed?: number
  /** Confidence level of the intervals (default 0.95). */
  level?: number
}

export interface SideStats {
  n: number
  median: number
  /** Order-statistic CI of the median (distribution-free; level = the coverage actually reached). */
  ci: Interval
  /** Errors metric only: total request errors of the point. */
  total?: number
}

export interface ComparisonRow {
  point: string
  metric: Metric
  unit: string
  better: 'higher' | 'lower'
  base: SideStats
  next: SideStats
  /** median(new)/median(base) − 1; null when undefined (baseline median 0). */
  change: number | null
  /** Bootstrap CI of the change (same units as change); null when not computed. */
  changeCI: {lo: number; hi: number; level: number} | null
  /** Two-sided Mann-Whitney p; null for the errors metric and refused rows. */
  p: number | null
  verdict: Verdict
  /** Why, in words, when the verdict needs explaining. */
  note?: string
}

export interface Problem {
  code: 'E_USAGE' | 'E_RUNTIME'
  message: string
}

export interface RunSummary {
  tfsoptVersion: string
  startedAt: string
  model: BenchRun['model']
  machine: BenchRun['machine']
}

export interface Comparison {
  verdict: 'ok' | 'regression' | 'error'
  /** What the CLI exits with: 0 ok, 3 regression, 2 usage (e.g. too few samples), 1 runtime. */
  exitCode: number
  summary: string
  options: Required<Omit<CompareOptions, 'seed'>> & {seed: number}
  rows: ComparisonRow[]
  regressions: number
  improvements: number
  warnings: string[]
  problems: Problem[]
  unmatched: {onlyInBase: string[]; onlyInNew: string[]}
  base: RunSummary
  next: RunSummary
}

function validateOptions(o: CompareOptions): void {
  const bad = (m: string) => new TfsoptError('E_USAGE', m)
  if (!(o.alpha > 0 && o.alpha < 1)) throw bad(`--alpha must be between 0 and 1 (exclusive), got ${o.alpha}`)
  if (!(o.maxRegression >= 0 && o.maxRegression < 1)) throw bad(`--max-regression must be a fraction in [0, 1) (e.g. 5% or 0.05), got ${o.maxRegression}`)
  if (o.metrics.length === 0) throw bad('no metrics to compare (--metric throughput,p99,p50,errors)')
  const r = o.resamples ?? DEFAULT_RESAMPLES
  if (!Number.isInteger(r) || r < 100) throw bad(`--resamples must be an integer ≥ 100, got ${r}`)
  const level = o.level ?? 0.95
  if (!(level > 0 && level < 1)) throw bad(`confidence level must be in (0, 1), got ${level}`)
}

function side(samples: number[], level: number): SideStats {
  return {n: samples.length, median: median(samples), ci: medianCI(samples, level)}
}

function compareSamples(point: string, metric: Metric, b: number[], n: number[], o: Required<CompareOptions>): ComparisonRow {
  const info = METRIC_INFO[metric]
  const row: ComparisonRow = {
    point,
    metric,
    unit: info.unit,
    better: info.better,
    base: side(b, o.level),
    next: side(n, o.level),
    change: null,
    changeCI: null,
    p: null,
    verdict: '~',
  }
  const reachable = minReachableP(b.length, n.length)
  if (!(reachable < o.alpha)) {
    row.verdict = 'error'
    row.note = `too few windows (${b.length} vs ${n.length}): the smallest reachable p is ${reachable.toPrecision(2)}, not below alpha ${o.alpha}`
    return row
  }
  const mw = mannWhitneyU(b, n)
  row.p = mw.pTwoSided
  if (row.base.median === 0) {
    row.note = 'baseline median is 0: the ratio is undefined, only p is reported'
    return row
  }
  row.change = row.next.median / row.base.median - 1
  const ci = bootstrapRatioOfMedians(b, n, {resamples: o.resamples, seed: o.seed, level: o.level})
  if (!Number.isFinite(ci.lo) || !Number.isFinite(ci.hi)) {
    row.note = 'bootstrap interval undefined (baseline medians of 0)'
    return row
  }
  row.changeCI = {lo: ci.lo - 1, hi: ci.hi - 1, level: ci.level}
  const t = o.maxRegression
  const significant = mw.pTwoSided < o.alpha
  const allBelow = ci.hi < 1 - t // whole interval shows a drop beyond the threshold
  const allAbove = ci.lo > 1 + t // whole interval shows a rise beyond the threshold
  const worse = info.better === 'higher' ? allBelow : allAbove
  const better = info.better === 'higher' ? allAbove : allBelow
  if (significant && worse) row.verdict = 'regression'
  else if (significant && better) row.verdict = 'improvement'
  else if (significant) row.note = `significant (p < ${o.alpha}) but the CI of the change is not entirely beyond ±${(t * 100).toFixed(1)}%`
  return row
}

function compareErrors(point: string, bp: PointResult, np: PointResult, o: Required<CompareOptions>): ComparisonRow {
  const info = METRIC_INFO.errors
  const be = totalErrors(bp)
  const ne = totalErrors(np)
  const row: ComparisonRow = {
    point,
    metric: 'errors',
    unit: info.unit,
    better: info.better,
    base: {...side(samplesOf(bp, 'errors'), o.level), total: be},
    next: {...side(samplesOf(np, 'errors'), o.level), total: ne},
    change: be > 0 ? ne / be - 1 : null,
    changeCI: null,
    p: null,
    verdict: '~',
  }
  if (ne > 0 && be === 0) {
    row.verdict = 'regression'
    row.note = `${ne} request error(s) in the new run, none in the baseline`
  } else if (be > 0 && ne === 0) {
    row.verdict = 'improvement'
    row.note = `no request errors (baseline had ${be})`
  } else if (be > 0) {
    row.note = `both runs had request errors (baseline ${be}, new ${ne}); not failing because the baseline had them too`
  }
  return row
}

function summarize(run: BenchRun): RunSummary {
  return {tfsoptVersion: run.tfsoptVersion, startedAt: run.startedAt, model: run.model, machine: run.machine}
}

function contextWarnings(base: BenchRun, next: BenchRun): string[] {
  const w: string[] = []
  const md = machineDiffers(base.machine, next.machine)
  if (md.length) w.push(`the new run's machine differs from the baseline's (${md.join('; ')}): differences may come from the hardware, not the code`)
  const bs = base.model?.sha256
  const ns = next.model?.sha256
  if (bs && ns && bs !== ns) w.push(`model differs (sha256 ${bs.slice(0, 12)}… → ${ns.slice(0, 12)}…)`)
  const keys = new Set([...Object.keys(base.settings ?? {}), ...Object.keys(next.settings ?? {})])
  const changed: string[] = []
  for (const k of [...keys].sort() as Array<keyof BenchSettings>) {
    const a = JSON.stringify(base.settings?.[k])
    const b = JSON.stringify(next.settings?.[k])
    if (a !== b) changed.push(`${k}: ${a ?? 'unset'} → ${b ?? 'unset'}`)
  }
  if (changed.length) w.push(`bench settings differ (${changed.join('; ')})`)
  return w
}

export function compareRuns(base: BenchRun, next: BenchRun, opts: CompareOptions): Comparison {
  validateOptions(opts)
  const o: Required<CompareOptions> = {
    metrics: [...new Set(opts.metrics)],
    maxRegression: opts.maxRegression,
    alpha: opts.alpha,
    resamples: opts.resamples ?? DEFAULT_RESAMPLES,
    seed: opts.seed ?? DEFAULT_SEED,
    level: opts.level ?? 0.95,
  }
  const warnings = contextWarnings(base, next)
  const problems: Problem[] = []
  const rows: ComparisonRow[] = []
  const nextById = new Map(next.points.map((p) => [p.id, p]))
  const baseIds = new Set(base.points.map((p) => p.id))
  const onlyInBase = base.points.filter((p) => !nextById.has(p.id)).map((p) => p.id)
  const onlyInNew = next.points.filter((p) => !baseIds.has(p.id)).map((p) => p.id)
  if (onlyInBase.length) warnings.push(`${onlyInBase.length} baseline point(s) not measured in the new run: ${onlyInBase.join(', ')}`)
  if (onlyInNew.length) warnings.push(`${onlyInNew.length} new point(s) without a baseline: ${onlyInNew.join(', ')}`)

  let matched = 0
  const tooFew: string[] = []
  for (const bp of base.points) {
    const np = nextById.get(bp.id)
    if (!np) continue
    matched++
    if (np.failed) {
      problems.push({code: 'E_RUNTIME', message: `point ${bp.id} failed in the new run: ${np.failed}`})
      continue
    }
    if (bp.failed) {
      warnings.push(`point ${bp.id} failed in the baseline (${bp.failed}); not compared`)
      continue
    }
    if (bp.stable === false || np.stable === false)
      warnings.push(`point ${bp.id} did not stabilise in the ${bp.stable === false ? 'baseline' : 'new run'}; its windows are noisier`)
    for (const m of o.metrics) {
      const row = m === 'errors' ? compareErrors(bp.id, bp, np, o) : compareSamples(bp.id, m, samplesOf(bp, m), samplesOf(np, m), o)
      rows.push(row)
    }
    if (rows.some((r) => r.point === bp.id && r.verdict === 'error')) tooFew.push(`${bp.id} (${bp.windows.length} vs ${np.windows.length})`)
  }
  if (tooFew.length) {
    // One message for all points: they usually share the bench settings that caused it.
    problems.push({
      code: 'E_USAGE',
      message: `too few windows to ever reach significance: at alpha ${o.alpha} the Mann-Whitney test needs at least ${minSamplesPerSide(o.alpha)} per side (10+ advised; bench with more windows); points: ${tooFew.join(', ')}`,
    })
  }
  if (matched === 0) {
    problems.push({
      code: 'E_USAGE',
      message: `no point of the new run matches a baseline point (baseline: ${base.points.map((p) => p.id).join(', ') || 'none'}; new: ${next.points.map((p) => p.id).join(', ') || 'none'}): were they measured with the same configuration?`,
    })
  }

  const regressions = rows.filter((r) => r.verdict === 'regression').length
  const improvements = rows.filter((r) => r.verdict === 'improvement').length
  let verdict: Comparison['verdict']
  let exitCode: number
  let summary: string
  if (problems.length) {
    verdict = 'error'
    exitCode = problems.some((p) => p.code === 'E_USAGE') ? EXIT.USAGE : EXIT.RUNTIME
    summary = `cannot decide: ${problems.map((p) => p.message).join('; ')}`
  } else if (regressions) {
    verdict = 'regression'
    exitCode = EXIT.REGRESSION
    summary = `${regressions} regression(s) detected (p < ${o.alpha} and the whole ${o.level * 100}% CI beyond ${(o.maxRegression * 100).toFixed(1)}%)`
  } else {
    verdict = 'ok'
    exitCode = EXIT.OK
    summary = `no regression${improvements ? `; ${improvements} improvement(s)` : ''}`
  }
  return {
    verdict,
    exitCode,
    summary,
    options: o,
    rows,
    regressions,
    improvements,
    warnings,
    problems,
    unmatched: {onlyInBase, onlyInNew},
    base: summarize(base),
    next: summarize(next),
  }
}
