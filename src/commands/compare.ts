import {Args, Flags} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {BaseCommand} from '../base-command.js'
import {EXIT, TfsoptError, errorMessage} from '../errors.js'
import {alphaFlag, fractionFlag} from '../cli/flags.js'
import {loadRun} from '../gate/baseline.js'
import {saveBaselineUnlessRegressed} from '../gate/service.js'
import {compareRuns, type Comparison} from '../gate/compare.js'
import {METRICS, type Metric} from '../gate/metrics.js'
import {renderTable} from '../gate/render-table.js'
import {appendStepSummary, renderMarkdown} from '../gate/render-markdown.js'
import {DEFAULT_RESAMPLES, DEFAULT_SEED} from '../stats/bootstrap.js'

export default class Compare extends BaseCommand {
  static override summary = 'Compare two bench runs and fail on a statistically significant regression (the CI gate).'
  static override description = `Points with the same id (same configuration) are compared metric by metric on their per-window samples.
A regression is called only when the Mann-Whitney U test gives p < alpha AND the whole bootstrap CI of the ratio of medians lies beyond --max-regression in the bad direction; "~" means no significant change. Any request errors in the new run fail the gate unless the baseline had them too.

Exit codes: 0 no regression, 3 regression detected, 2 usage error (bad files or flags, or too few windows for the test ever to reach significance), 1 runtime failure (e.g. a point failed in the new run). They hold with --json too. See docs/CI-GATE.md.`

  static override examples = [
    '<%= config.bin %> compare baseline.json new.json',
    '<%= config.bin %> compare baseline.json new.json --metric throughput,p99 --max-regression 3% --alpha 0.01',
    '<%= config.bin %> compare baseline.json new.json --markdown comment.md --json > gate.json',
  ]

  static override args = {
    base: Args.string({description: 'baseline bench result (tfsopt-bench/2 or /1 JSON)', required: true}),
    new: Args.string({description: 'new bench result to judge', required: true}),
  }

  static override flags = {
    metric: Flags.string({
      description: 'metrics to compare (comma-separated)',
      options: [...METRICS],
      multiple: true,
      delimiter: ',',
      default: ['throughput', 'p99', 'p50', 'errors'],
    }),
    'max-regression': fractionFlag('changes within this are never called (e.g. 5% or 0.05)', '5%'),
    alpha: alphaFlag('significance level of the Mann-Whitney test', '0.05'),
    resamples: Flags.integer({description: 'bootstrap resamples for the CI of the ratio of medians', min: 100, default: DEFAULT_RESAMPLES}),
    seed: Flags.integer({description: 'bootstrap seed (fixed by default so the gate is reproducible)', default: DEFAULT_SEED}),
    markdown: Flags.string({description: 'also write the comparison as Markdown to FILE (for a PR comment)'}),
    'save-baseline': Flags.string({description: 'when the gate passes, save the NEW run as the baseline FILE (atomic write)'}),
  }

  async run(): Promise<Comparison> {
    const {args, flags} = await this.parse(Compare)
    const opts = {
      metrics: flags.metric as Metric[],
      maxRegression: flags['max-regression'],
      alpha: flags.alpha,
      resamples: flags.resamples,
      seed: flags.seed,
    }
    const base = loadRun(args.base)
    const next = loadRun(args.new)
    const c = compareRuns(base, next, opts)

    // Reports first, whatever the verdict: a failing gate is exactly when people need them.
    this.say(renderTable(c))
    if (this.jsonEnabled()) for (const w of c.warnings) this.warnUser(w)
    const md = renderMarkdown(c)
    if (flags.markdown) this.writeReport(flags.markdown, md)
    try {
      if (appendStepSummary(md)) this.say('appended the report to $GITHUB_STEP_SUMMARY')
    } catch (err) {
      this.warnUser(`cannot append to $GITHUB_STEP_SUMMARY: ${errorMessage(err)}`)
    }

    if (c.verdict === 'error') {
      throw new TfsoptError(c.problems.some((p) => p.code === 'E_USAGE') ? 'E_USAGE' : 'E_RUNTIME', c.summary)
    }
    if (flags['save-baseline']) {
      if (saveBaselineUnlessRegressed(next, flags['save-baseline'], c.verdict)) this.say(`saved ${args.new} as the baseline ${flags['save-baseline']}`)
      else this.warnUser(`not saving ${flags['save-baseline']}: the new run regressed`)
    }
    // Set, not this.exit(): exit() throws, and under --json oclif would then print an error
    // instead of the comparison and drop the code (oclif/core#1423). Returning keeps both.
    if (c.verdict === 'regression') process.exitCode = EXIT.REGRESSION
    return c
  }

  private writeReport(file: string, text: string): void {
    try {
      writeFileSync(file, text)
    } catch (err) {
      throw new TfsoptError('E_USAGE', `--markdown ${file}: cannot write (${errorMessage(err)})`)
    }
  }
}
