/**
 * The gate as a service for the commands: judge a run against a baseline file, and save a run as a
 * baseline unless it regressed. `tfsopt bench --baseline/--save-baseline` and `tfsopt compare
 * --save-baseline` both go through here, so they judge and save the same way.
 */
import type {BenchRun, GateSummary} from '../results/bench-run.js'
import {loadRun, saveBaseline} from './baseline.js'
import {compareRuns, type CompareOptions, type Comparison} from './compare.js'

/** Compares `run` with the baseline in `baselineFile` and records the verdict in `run.gate`. */
export function judgeAgainstBaseline(run: BenchRun, baselineFile: string, opts: CompareOptions): Comparison {
  const c = compareRuns(loadRun(baselineFile), run, opts)
  run.gate = gateSummary(c)
  return c
}

export function gateSummary(c: Comparison): GateSummary {
  return {verdict: c.verdict, exitCode: c.exitCode, summary: c.summary, regressions: c.regressions, improvements: c.improvements}
}

/**
 * Saves `run` as the baseline `file` unless the gate found a regression (a regressed run must never
 * become the reference). `verdict` undefined: not judged, saved. Returns whether it was saved.
 */
export function saveBaselineUnlessRegressed(run: BenchRun, file: string, verdict: Comparison['verdict'] | undefined): boolean {
  if (verdict === 'regression') return false
  saveBaseline(run, file)
  return true
}
