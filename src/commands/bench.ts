import {Args, Flags} from '@oclif/core'
import {writeFileSync} from 'node:fs'
import {BaseCommand, keyFileFlag} from '../base-command.js'
import {useKeyFile} from '../models/sealed/key.js'
import {DEVICES} from '../runtime/types.js'
import {alphaFlag, fractionFlag, numberFlag, numberListFlag} from '../cli/flags.js'
import {EXIT, TfsoptError, errorMessage, usageError} from '../errors.js'
import {buildBenchOptions, POINT_DEFAULTS} from '../bench/build-options.js'
import {DEFAULT_SWEEP} from '../bench/defaults.js'
import {PROTOCOLS, parseProtocol} from '../bench/protocol-bodies.js'
import {BenchEngine} from '../bench/run.js'
import {type ManyModelsRun, type Popularity, renderManyModelsMarkdown, renderManyModelsTable} from '../bench/many-models.js'
import {runManyModels} from '../bench/many-models-run.js'
import {splitFlags} from '../bench/server-process.js'
import {DEFAULT_MODEL} from '../fixtures.js'
import {attachProgress} from '../bench/progress.js'
import type {Arrival} from '../bench/schedule.js'
import type {BenchRun} from '../results/bench-run.js'
import {renderRecommendation, renderTable} from '../report/table.js'
import {renderCsv} from '../report/csv.js'
import {renderMarkdown} from '../report/markdown.js'
import {renderHtml} from '../report/html.js'
import {judgeAgainstBaseline, saveBaselineUnlessRegressed} from '../gate/service.js'
import {renderTable as renderGateTable} from '../gate/render-table.js'
import {METRICS, type Metric} from '../gate/metrics.js'

const whole = {integer: true, min: 0}
const positiveWhole = {integer: true, min: 1}

export default class Bench extends BaseCommand {
  static override summary = 'Load-test a model server: sweep configurations and load, compare with queueing theory, recommend a configuration.'
  static override description = `With no MODEL and no --url, serves the bundled default model and runs the default sweep (about two minutes on 2 cores).
For each server-side setting (--workers, --intra-op-threads, --max-batch-size, --batch-timeout-micros, --cache-size) a \`tfsopt serve\` child is started on a free port; --url targets any TF-Serving-compatible REST endpoint instead.
Closed loop (--concurrency) uses autocannon; open loop (--rate) sends on a constant or Poisson schedule and measures from the intended send time. Each point: warm-up, then windows of --duration seconds until the last --windows agree within --stability on throughput and mean latency (--stability-on p99 for p99; perf_analyzer's rule), or --max-windows is reached: marked unstable. Windows stretch to hold --window-requests requests at the warm-up's rate (count windows).
Lists accept "1,2,4" or ranges "1:64:x2" / "10:50:10". See docs/BENCH.md.`

  static override examples = [
    '<%= config.bin %> bench --sweep',
    '<%= config.bin %> bench model.onnx --concurrency 1:32:x2 --max-batch-size 1,8,32 --slo-p99 20 --html report.html',
    '<%= config.bin %> bench --url http://127.0.0.1:8501 --model-name mnist --rate 100,200,400 --arrival poisson',
    '<%= config.bin %> bench --concurrency 1,8,32 --protocol tfs-rest,tfs-grpc,v2-rest-binary',
    '<%= config.bin %> bench --url http://10.0.0.5:8501 --grpc-target 10.0.0.5:8500 --model-name resnet --protocol tfs-grpc --concurrency 8,32',
    '<%= config.bin %> bench --sweep --search adaptive --slo-p99 15 --out run.json',
    '<%= config.bin %> bench --concurrency 8 --repeat 4 --baseline base.json',
    '<%= config.bin %> bench --models 20 --fit 5 --popularity zipf --zipf-s 1 --duration 60',
  ]

  static override args = {
    model: Args.string({description: 'model file for the built-in server (default: the bundled MNIST model)'}),
  }

  static override flags = {
    ...keyFileFlag,
    url: Flags.string({description: 'benchmark this TF-Serving-compatible REST endpoint instead of a built-in server'}),
    protocol: Flags.string({
      description: `wire protocol(s) to load the server with (list; default tfs-rest): ${PROTOCOLS.join(', ')} — each is a client variant of its own, measured side by side`,
      multiple: true,
      delimiter: ',',
    }),
    'grpc-target': Flags.string({description: "with --url and a gRPC protocol: the server's gRPC HOST:PORT (TF Serving: 8500; Triton: 8001)"}),
    'model-name': Flags.string({description: 'model name at the endpoint (required with --url)'}),
    sweep: Flags.boolean({description: 'run the default sweep for whatever lists are not given'}),
    concurrency: numberListFlag('closed-loop concurrency levels (list)', positiveWhole),
    rate: numberListFlag('open-loop arrival rates, req/s (list)', {min: 0.001}),
    arrival: Flags.string({description: 'open-loop arrival process', options: ['poisson', 'constant'], default: 'poisson'}),
    'client-batch': numberListFlag('instances per request (list; default 1)', positiveWhole),
    workers: numberListFlag('server workers (list; built-in server)', positiveWhole),
    'intra-op-threads': numberListFlag('server intra-op threads (list; built-in server)', whole),
    'max-batch-size': numberListFlag('server max batch size (list; built-in server)', positiveWhole),
    'batch-timeout-micros': numberListFlag('server batch timeout, µs (list; built-in server)', whole),
    'cache-size': numberListFlag('server response cache size (list; built-in server)', whole),
    'repeat-ratio': numberListFlag('fraction of requests repeating an earlier input, 0–1 (list; default 0): controls the cache hit ratio', {min: 0, max: 1}),
    device: Flags.string({
      description: 'built-in server: --device for `tfsopt serve` (auto, cpu, gpu, cuda, tensorrt, webgpu); a GPU provider brings its batching defaults',
      options: [...DEVICES],
    }),
    'server-flags': Flags.string({description: 'extra flags for the built-in server, e.g. "--inject-latency-ms 5"'}),
    replicas: numberListFlag('replica counts (list): that many `tfsopt serve` processes behind a real balancer (nginx; --balancer haproxy)', positiveWhole),
    lb: Flags.string({description: 'balancing policies with --replicas (list): round-robin, least-conn, random-two', multiple: true, delimiter: ','}),
    balancer: Flags.string({description: 'with --replicas: the balancer to run', options: ['nginx', 'haproxy'], default: 'nginx'}),
    data: Flags.string({
      description: 'request data: eval-set JSON, JSON lines of instances, or ONNX test-data dir (default: generated from the model signature)',
    }),
    // No defaults on these: build-options.ts applies them, and only to what the user did not give.
    duration: numberFlag(`seconds per measurement window (default ${POINT_DEFAULTS.windowS}; ${DEFAULT_SWEEP.windowS} in the default sweep)`, {positive: true}),
    warmup: numberFlag(`warm-up seconds per point, discarded (default ${POINT_DEFAULTS.warmupS}; ${DEFAULT_SWEEP.warmupS} in the default sweep)`, {min: 0}),
    windows: numberFlag(
      `windows judged by the stability rule, and the minimum measured (default ${POINT_DEFAULTS.windows}; more with --baseline/--save-baseline)`,
      positiveWhole,
    ),
    'max-windows': numberFlag(
      `trial limit: windows before a point is marked unstable (default ${POINT_DEFAULTS.maxWindows}; ${DEFAULT_SWEEP.maxWindows} in the default sweep)`,
      positiveWhole,
    ),
    'stability-on': Flags.string({
      description: "latency the stability rule judges beside throughput: mean (perf_analyzer's default) or p99 (default mean)",
      options: ['mean', 'p99'],
    }),
    'window-requests': numberFlag(
      'count windows: a window lasts at least long enough for N requests at the warm-up rate, up to 10 × --duration (default 200; 0 = off)',
      {min: 0},
    ),
    stability: numberFlag(`stability threshold, percent: max/min − 1 over the judged windows (default ${POINT_DEFAULTS.stabilityPct})`, {positive: true}),
    search: Flags.string({
      description: 'grid measures every point; adaptive stops raising load once gains < 5% and the SLO is broken',
      options: ['grid', 'adaptive'],
      default: 'grid',
    }),
    'slo-p99': numberFlag('p99 latency objective, ms: the recommendation is the best throughput meeting it with no errors', {positive: true}),
    repeat: Flags.integer({description: 'measure each point K times, interleaved (for the CI gate)', default: 1, min: 1}),
    models: Flags.integer({
      description: 'many models: spread each point over N copies of MODEL (built-in server under a memory budget) or the --model-names at --url',
      min: 1,
    }),
    popularity: Flags.string({description: 'with --models: how requests pick a model', options: ['zipf', 'uniform'], default: 'zipf'}),
    'zipf-s': numberFlag('with --models --popularity zipf: the Zipf exponent s (default 1)', {min: 0}),
    fit: Flags.integer({description: 'with --models: how many models the memory budget holds (default 2; with --url: required, as configured there)', min: 1}),
    'model-names': Flags.string({
      description: 'with --models and --url: the model names served there (comma-separated, N of them)',
      multiple: true,
      delimiter: ',',
    }),
    'compare-model': Flags.string({description: 'A/B: a second model measured in alternation with MODEL'}),
    'fail-fast': Flags.boolean({description: 'stop the sweep at the first failed point'}),
    timeout: Flags.integer({description: 'request timeout, seconds', default: 30, min: 1}),
    seed: Flags.integer({description: 'seed for schedules and body choice', default: 1}),
    out: Flags.string({description: 'write the result JSON (tfsopt-bench/2) to FILE, for the CI gate'}),
    csv: Flags.string({description: 'write a CSV report to FILE'}),
    markdown: Flags.string({description: 'write a Markdown report to FILE'}),
    html: Flags.string({description: 'write a self-contained HTML report with charts to FILE'}),
    baseline: Flags.string({description: 'after measuring, compare with this baseline; exit 3 on a regression'}),
    'save-baseline': Flags.string({description: 'save this run as a baseline FILE (not when it regressed against --baseline)'}),
    'max-regression': fractionFlag('with --baseline: the change (e.g. 5%) the whole bootstrap CI must exceed to call a regression', '5%'),
    alpha: alphaFlag('with --baseline: significance level of the Mann-Whitney U test', '0.05'),
    metric: Flags.string({
      description: 'with --baseline: metrics the gate judges (comma-separated)',
      options: [...METRICS],
      multiple: true,
      delimiter: ',',
      default: ['throughput', 'p99', 'p50', 'errors'],
    }),
  }

  async run(): Promise<BenchRun | ManyModelsRun> {
    const {args, flags} = await this.parse(Bench)
    useKeyFile(flags['key-file'])
    if (flags.models !== undefined) return this.manyModels(args, flags)
    const gateFlag = flags.baseline ? '--baseline' : flags['save-baseline'] ? '--save-baseline' : undefined
    const o = buildBenchOptions(
      {
        url: flags.url,
        modelName: flags['model-name'],
        sweep: flags.sweep,
        concurrency: flags.concurrency,
        rate: flags.rate,
        arrival: flags.arrival as Arrival,
        clientBatch: flags['client-batch'],
        repeatRatio: flags['repeat-ratio'],
        protocol: flags.protocol ? [...new Set(flags.protocol.map((p) => parseProtocol(p.trim())))] : undefined,
        grpcTarget: flags['grpc-target'],
        workers: flags.workers,
        intraOpThreads: flags['intra-op-threads'],
        maxBatchSize: flags['max-batch-size'],
        batchTimeoutMicros: flags['batch-timeout-micros'],
        cacheSize: flags['cache-size'],
        serverFlags: flags['server-flags'],
        replicas: flags.replicas,
        lb: flags.lb,
        balancer: flags.balancer as 'nginx' | 'haproxy',
        device: flags.device,
        data: flags.data,
        duration: flags.duration,
        warmup: flags.warmup,
        windows: flags.windows,
        maxWindows: flags['max-windows'],
        stability: flags.stability,
        stabilityOn: flags['stability-on'] as 'mean' | 'p99' | undefined,
        windowRequests: flags['window-requests'],
        search: flags.search as 'grid' | 'adaptive',
        sloP99: flags['slo-p99'],
        repeat: flags.repeat,
        compareModel: flags['compare-model'],
        failFast: flags['fail-fast'],
        timeout: flags.timeout,
        seed: flags.seed,
        gate: gateFlag ? {alpha: flags.alpha, flag: gateFlag} : undefined,
      },
      args,
    )
    const {run, engine} = await this.measure(new BenchEngine(o, this.interruptSignal()))

    this.say(renderTable(run))
    this.say(renderRecommendation(run.recommendation))
    this.writeOutputs(run, flags)
    if (flags.baseline) {
      const c = judgeAgainstBaseline(run, flags.baseline, {metrics: flags.metric as Metric[], maxRegression: flags['max-regression'], alpha: flags.alpha})
      process.stderr.write(`${renderGateTable(c)}\n`)
      if (c.verdict === 'error') this.warnUser(`the comparison with ${flags.baseline} could not decide: ${c.summary}`)
      if (c.exitCode !== EXIT.OK) process.exitCode = c.exitCode
      if (flags.out) this.write(flags.out, `${JSON.stringify(run, null, 2)}\n`)
    }
    if (flags['save-baseline'] && !saveBaselineUnlessRegressed(run, flags['save-baseline'], run.gate?.verdict))
      this.warnUser(`not saving ${flags['save-baseline']}: this run regressed`)
    if (run.interrupted) process.exitCode = 130
    // --fail-fast: the outputs above hold the points measured up to the failure; then exit 1.
    if (engine.stoppedBy) throw engine.stoppedBy
    return run
  }

  /** --models N: many models under a memory budget, hit ratio and cold/steady p99 beside Che's approximation. */
  private async manyModels(args: {model?: string}, flags: Record<string, unknown> & {models?: number}): Promise<ManyModelsRun> {
    const n = flags.models!
    const url = flags.url as string | undefined
    const names = flags['model-names'] as string[] | undefined
    if (url && names?.length !== n) throw usageError(`--models ${n} with --url needs --model-names listing ${n} names (got ${names?.length ?? 0})`)
    if (!url && names) throw usageError('--model-names is for --url; the built-in server names its copies itself')
    if (url && flags.fit === undefined) throw usageError("--models with --url needs --fit: how many of the models the server's memory budget holds")
    const fit = (flags.fit as number | undefined) ?? 2
    if (!url && n <= fit) throw usageError(`--models ${n} must exceed --fit ${fit}, or every model fits and nothing is evicted`)
    const run = await runManyModels({
      model: url ? undefined : (args.model ?? DEFAULT_MODEL),
      url: url?.replace(/\/$/, ''),
      names,
      models: n,
      popularity: flags.popularity as Popularity,
      zipfS: (flags['zipf-s'] as number | undefined) ?? 1,
      fit,
      concurrency: (flags.concurrency as number[] | undefined) ?? [1],
      seconds: (flags.duration as number | undefined) ?? 10,
      seed: flags.seed as number,
      timeoutS: flags.timeout as number,
      serverFlags: splitFlags(flags['server-flags'] as string | undefined),
    })
    this.say(renderManyModelsTable(run))
    if (flags.out) this.write(flags.out as string, `${JSON.stringify(run, null, 2)}\n`)
    if (flags.markdown) this.write(flags.markdown as string, renderManyModelsMarkdown(run))
    return run
  }

  /** First Ctrl-C: stop measuring and write what was measured. Second: leave at once. */
  private interruptSignal(): AbortSignal {
    const controller = new AbortController()
    let sigints = 0
    this.onSigint = () => {
      if (++sigints > 1) process.exit(130)
      process.stderr.write('\ninterrupted: writing the points measured so far (Ctrl-C again to quit now)\n')
      controller.abort()
    }
    process.on('SIGINT', this.onSigint)
    return controller.signal
  }

  private onSigint?: () => void

  private async measure(engine: BenchEngine): Promise<{run: BenchRun; engine: BenchEngine}> {
    const detach = this.jsonEnabled() ? () => {} : attachProgress(engine)
    if (!process.stderr.isTTY || this.jsonEnabled()) engine.on('warning', (w: string) => this.warnUser(w))
    try {
      return {run: await engine.run(), engine}
    } finally {
      detach()
      if (this.onSigint) process.off('SIGINT', this.onSigint)
    }
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
