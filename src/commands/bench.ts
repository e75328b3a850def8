import {Args, Flags} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {BaseCommand} from '../base-command.js'
import {DEVICES} from '../runtime/types.js'
import {EXIT, TfsoptError, errorMessage, usageError} from '../errors.js'
import {DEFAULT_MODEL_NAME} from '../fixtures.js'
import {BenchEngine} from '../bench/run.js'
import {DEFAULT_SWEEP} from '../bench/defaults.js'
import {parseList, validateOptions, type BenchOptions} from '../bench/options.js'
import {splitFlags} from '../bench/server-process.js'
import {attachProgress} from '../bench/progress.js'
import type {BenchRun} from '../bench/result.js'
import type {Recommendation} from '../bench/recommend.js'
import {renderRecommendation, renderTable} from '../report/table.js'
import {renderCsv} from '../report/csv.js'
import {renderMarkdown} from '../report/markdown.js'
import {renderHtml} from '../report/html.js'
import {compareRuns} from '../gate/compare.js'
import {loadRun, saveBaseline} from '../gate/baseline.js'
import {renderTable as renderGateTable} from '../gate/render-table.js'
import {parseAlpha, parseFraction} from '../gate/options.js'
import {minSamplesPerSide} from '../stats/mann-whitney.js'
import {METRICS, type Metric} from '../gate/metrics.js'

export default class Bench extends BaseCommand {
  static override summary = 'Load-test a model server: sweep configurations and load, compare with queueing theory, recommend a configuration.'
  static override description = `With no MODEL and no --url, serves the bundled default model and runs the default sweep (about two minutes on 2 cores).
For each server-side setting (--workers, --intra-op-threads, --max-batch-size, --batch-timeout-micros, --cache-size) a \`tfsopt serve\` child is started on a free port; --url targets any TF-Serving-compatible REST endpoint instead.
Closed loop (--concurrency) uses autocannon; open loop (--rate) sends on a constant or Poisson schedule and measures from the intended send time. Each point: warm-up, then windows of --duration seconds until the last --windows agree within --stability on throughput and p99 (or --max-windows is reached: marked unstable).
Lists accept "1,2,4" or ranges "1:64:x2" / "10:50:10". See docs/BENCH.md.`

  static override examples = [
    '<%= config.bin %> bench --sweep',
    '<%= config.bin %> bench model.onnx --concurrency 1:32:x2 --max-batch-size 1,8,32 --slo-p99 20 --html report.html',
    '<%= config.bin %> bench --url http://127.0.0.1:8501 --model-name mnist --rate 100,200,400 --arrival poisson',
    '<%= config.bin %> bench --sweep --search adaptive --slo-p99 15 --out run.json',
    '<%= config.bin %> bench --concurrency 8 --repeat 4 --baseline base.json',
  ]

  static override args = {
    model: Args.string({description: 'model file for the built-in server (default: the bundled MNIST model)'}),
  }

  static override flags = {
    url: Flags.string({description: 'benchmark this TF-Serving-compatible REST endpoint instead of a built-in server'}),
    'model-name': Flags.string({description: 'model name at the endpoint (required with --url)'}),
    sweep: Flags.boolean({description: 'run the default sweep for whatever lists are not given'}),
    concurrency: Flags.string({description: 'closed-loop concurrency levels (list)'}),
    rate: Flags.string({description: 'open-loop arrival rates, req/s (list)'}),
    arrival: Flags.string({description: 'open-loop arrival process', options: ['poisson', 'constant'], default: 'poisson'}),
    'client-batch': Flags.string({description: 'instances per request (list)', default: '1'}),
    workers: Flags.string({description: 'server workers (list; built-in server)'}),
    'intra-op-threads': Flags.string({description: 'server intra-op threads (list; built-in server)'}),
    'max-batch-size': Flags.string({description: 'server max batch size (list; built-in server)'}),
    'batch-timeout-micros': Flags.string({description: 'server batch timeout, µs (list; built-in server)'}),
    'cache-size': Flags.string({description: 'server response cache size (list; built-in server)'}),
    'repeat-ratio': Flags.string({description: 'fraction of requests repeating an earlier input, 0–1 (list): controls the cache hit ratio', default: '0'}),
    device: Flags.string({
      description: 'built-in server: --device for `tfsopt serve` (auto, cpu, gpu, cuda, tensorrt, webgpu); a GPU provider brings its batching defaults',
      options: [...DEVICES],
    }),
    'server-flags': Flags.string({description: 'extra flags for the built-in server, e.g. "--inject-latency-ms 5"'}),
    data: Flags.string({
      description: 'request data: eval-set JSON, JSON lines of instances, or ONNX test-data dir (default: generated from the model signature)',
    }),
    duration: Flags.string({description: 'seconds per measurement window', default: '2'}),
    warmup: Flags.string({description: 'warm-up seconds per point (discarded)', default: '2'}),
    windows: Flags.integer({description: 'windows judged by the stability rule (and the minimum measured)', default: 3, min: 1}),
    'max-windows': Flags.integer({description: 'trial limit: windows before a point is marked unstable', default: 10, min: 1}),
    stability: Flags.string({description: 'stability threshold, percent (max/min − 1 over the judged windows)', default: '10'}),
    search: Flags.string({
      description: 'grid measures every point; adaptive stops raising load once gains < 5% and the SLO is broken',
      options: ['grid', 'adaptive'],
      default: 'grid',
    }),
    'slo-p99': Flags.string({description: 'p99 latency objective, ms: the recommendation is the best throughput meeting it with no errors'}),
    repeat: Flags.integer({description: 'measure each point K times, interleaved (for the CI gate)', default: 1, min: 1}),
    'compare-model': Flags.string({description: 'A/B: a second model measured in alternation with MODEL'}),
    'fail-fast': Flags.boolean({description: 'stop the sweep at the first failed point'}),
    timeout: Flags.integer({description: 'request timeout, seconds', default: 30, min: 1}),
    seed: Flags.integer({description: 'seed for schedules and body choice', default: 1}),
    out: Flags.string({description: 'write the result JSON (tfsopt-bench/1) to FILE, for the CI gate'}),
    csv: Flags.string({description: 'write a CSV report to FILE'}),
    markdown: Flags.string({description: 'write a Markdown report to FILE'}),
    html: Flags.string({description: 'write a self-contained HTML report with charts to FILE'}),
    baseline: Flags.string({description: 'after measuring, compare with this baseline; exit 3 on a regression'}),
    'save-baseline': Flags.string({description: 'save this run as a baseline FILE (not when it regressed against --baseline)'}),
    'max-regression': Flags.string({
      description: 'with --baseline: the change (e.g. 5%) the whole bootstrap CI must exceed to call a regression',
      default: '5%',
    }),
    alpha: Flags.string({description: 'with --baseline: significance level of the Mann-Whitney U test', default: '0.05'}),
    metric: Flags.string({
      description: 'with --baseline: metrics the gate judges (comma-separated)',
      options: [...METRICS],
      multiple: true,
      delimiter: ',',
      default: ['throughput', 'p99', 'p50', 'errors'],
    }),
  }

  async run(): Promise<BenchRun> {
    const {args, flags} = await this.parse(Bench)
    const num = (s: string, name: string) => {
      const v = Number(s)
      if (!Number.isFinite(v)) throw usageError(`--${name}: "${s}" is not a number`)
      return v
    }
    const noLoad = !flags.concurrency && !flags.rate
    const defaultSweep = flags.sweep || (noLoad && !args.model && !flags.url)
    if (flags.url && flags.device) throw usageError("--device picks the built-in server's device; a server at --url runs where it runs: leave out --device")
    if (flags.url && !flags['model-name']) throw usageError('--url needs --model-name (TF Serving URLs name the model)')
    const list = (f: string | undefined, name: string, o: {integer?: boolean; min?: number; max?: number} = {integer: true, min: 0}) => parseList(f, name, o)
    const o: BenchOptions = {
      model: args.model,
      compareModel: flags['compare-model'],
      url: flags.url?.replace(/\/+$/, ''),
      modelName: flags['model-name'] ?? DEFAULT_MODEL_NAME,
      data: flags.data,
      concurrency: list(flags.concurrency, 'concurrency', {integer: true, min: 1}),
      rate: list(flags.rate, 'rate', {min: 0.001}),
      arrival: flags.arrival as 'poisson' | 'constant',
      clientBatch: list(flags['client-batch'], 'client-batch', {integer: true, min: 1}),
      repeatRatio: list(flags['repeat-ratio'], 'repeat-ratio', {min: 0, max: 1}),
      server: {
        workers: list(flags.workers, 'workers', {integer: true, min: 1}),
        intraOpThreads: list(flags['intra-op-threads'], 'intra-op-threads'),
        maxBatchSize: list(flags['max-batch-size'], 'max-batch-size', {integer: true, min: 1}),
        batchTimeoutMicros: list(flags['batch-timeout-micros'], 'batch-timeout-micros'),
        cacheSize: list(flags['cache-size'], 'cache-size'),
      },
      // --device is passed through to every served child, as --server-flags would.
      serverFlags: [...splitFlags(flags['server-flags']), ...(flags.device ? ['--device', flags.device] : [])],
      warmupS: num(flags.warmup, 'warmup'),
      windowS: num(flags.duration, 'duration'),
      minWindows: flags.windows,
      maxWindows: flags['max-windows'],
      stabilityPct: num(flags.stability, 'stability'),
      search: flags.search as 'grid' | 'adaptive',
      sloP99Ms: flags['slo-p99'] === undefined ? undefined : num(flags['slo-p99'], 'slo-p99'),
      repeat: flags.repeat,
      failFast: flags['fail-fast'],
      seed: flags.seed,
      timeoutS: flags.timeout,
    }
    if (defaultSweep) {
      if (!o.concurrency.length && !o.rate.length) o.concurrency = DEFAULT_SWEEP.concurrency
      if (!o.url && !o.server.maxBatchSize.length) o.server.maxBatchSize = DEFAULT_SWEEP.maxBatchSize
      // Shorter windows than the single-point defaults keep the whole sweep near two minutes.
      if (!this.argv.includes('--duration')) o.windowS = DEFAULT_SWEEP.windowS
      if (!this.argv.includes('--warmup')) o.warmupS = DEFAULT_SWEEP.warmupS
      if (!this.argv.includes('--max-windows')) o.maxWindows = DEFAULT_SWEEP.maxWindows
    }
    const gate = {maxRegression: parseFraction(flags['max-regression'], '--max-regression'), alpha: parseAlpha(flags.alpha)}
    // The gate's statistics run on per-window samples: a baseline or a comparison needs enough
    // windows per point to ever reach significance (4 per side at alpha 0.05), plus one to spare.
    if ((flags.baseline || flags['save-baseline']) && !this.argv.includes('--windows')) {
      o.minWindows = Math.max(o.minWindows, minSamplesPerSide(gate.alpha) + 1)
      o.maxWindows = Math.max(o.maxWindows, o.minWindows)
    }
    // Refuse before measuring, not after: a stable point stops after --windows windows per repeat, so
    // fewer than the test needs would make every point "too few to compare" (compare exits 2 anyway).
    const needed = minSamplesPerSide(gate.alpha)
    if ((flags.baseline || flags['save-baseline']) && o.minWindows * o.repeat < needed) {
      const have = o.repeat > 1 ? `--windows ${o.minWindows} × --repeat ${o.repeat}: ${o.minWindows * o.repeat}` : `--windows ${o.minWindows}: ${o.minWindows}`
      throw usageError(
        `${have} windows per point are too few for the gate (--${flags.baseline ? 'baseline' : 'save-baseline'}): at --alpha ${gate.alpha} the Mann-Whitney test needs at least ${needed} windows per point to ever reach significance (10 or more advised)`,
      )
    }
    validateOptions(o)

    const controller = new AbortController()
    let sigints = 0
    const onSigint = () => {
      // First Ctrl-C: stop measuring and write what was measured. Second: leave at once.
      if (++sigints > 1) process.exit(130)
      process.stderr.write('\ninterrupted: writing the points measured so far (Ctrl-C again to quit now)\n')
      controller.abort()
    }
    process.on('SIGINT', onSigint)
    const engine = new BenchEngine(o, controller.signal)
    const detach = this.jsonEnabled() ? () => {} : attachProgress(engine)
    if (!process.stderr.isTTY || this.jsonEnabled()) engine.on('warning', (w: string) => this.warnUser(w))
    let run: BenchRun
    try {
      run = await engine.run()
    } finally {
      detach()
      process.off('SIGINT', onSigint)
    }

    this.say(renderTable(run))
    this.say(renderRecommendation(run.recommendation as Recommendation | null))
    this.writeOutputs(run, flags)
    if (flags.baseline) {
      const c = compareRuns(loadRun(flags.baseline), run, {metrics: flags.metric as Metric[], ...gate})
      run.gate = {verdict: c.verdict, exitCode: c.exitCode, summary: c.summary, regressions: c.regressions, improvements: c.improvements}
      process.stderr.write(`${renderGateTable(c)}\n`)
      if (c.verdict === 'error') this.warnUser(`the comparison with ${flags.baseline} could not decide: ${c.summary}`)
      if (c.exitCode !== EXIT.OK) process.exitCode = c.exitCode
      if (flags.out) this.write(flags.out, `${JSON.stringify(run, null, 2)}\n`)
    }
    if (flags['save-baseline']) {
      if ((run.gate as {verdict?: string} | undefined)?.verdict === 'regression') this.warnUser(`not saving ${flags['save-baseline']}: this run regressed`)
      else saveBaseline(run, flags['save-baseline'])
    }
    if (run.interrupted) process.exitCode = 130
    // --fail-fast: the outputs above hold the points measured up to the failure; then exit 1.
    if (engine.stoppedBy) throw engine.stoppedBy
    return run
  }

  private writeOutputs(run: BenchRun, flags: {out?: string; csv?: string; markdown?: string; html?: string}): void {
    if (flags.out) this.write(flags.out, `${JSON.stringify(run, null, 2)}\n`)
    if (flags.csv) this.write(flags.csv, renderCsv(run))
    if (flags.markdown) this.write(flags.markdown, renderMarkdown(run))
    if (flags.html) this.write(flags.html, renderHtml(run))
  }

  private write(file: string, text: string): void {
    try {
      writeFileSync(file, text)
      this.say(`wrote ${file}`)
    } catch (err) {
      throw new TfsoptError('E_RUNTIME', `cannot write ${file}: ${errorMessage(err)}`)
    }
  }
}
