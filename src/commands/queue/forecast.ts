import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {forecastRun, type SettingForecast} from '../../bench/forecast.js'
import {numberFlag, numberListFlag} from '../../cli/flags.js'
import {loadRun} from '../../gate/baseline.js'
import {renderQueueTable} from '../../report/queue-tables.js'

export interface QueueForecastResult {
  run: string
  settings: SettingForecast[]
}

export default class QueueForecast extends BaseCommand {
  static override summary = "What-if from a saved bench run: forecast loads, workers and capacity from the station model's calibration."
  static override description =
    `Reads a \`tfsopt bench --out\` result and, for each server setting the station model calibrated (docs/QUEUEING.md §Station model), forecasts throughput and mean latency at the given --concurrency and --rate (open loop, Poisson), with --workers for another worker count.
With --max-mean-ms or --max-p99-ms it answers: up to how many connections, and up to what rate, stay within the bound; with --workers-for RATE as well, the fewest workers that carry that rate within it.
p99 is the forecast mean times the p99/mean ratio measured at the nearest measured load of the same setting (the station network models means); each row says which.`

  static override examples = [
    '<%= config.bin %> queue forecast run.json --concurrency 64,128 --rate 2000,4000',
    '<%= config.bin %> queue forecast run.json --max-p99-ms 5',
    '<%= config.bin %> queue forecast run.json --max-mean-ms 2 --workers-for 6000 --json',
  ]

  static override args = {
    run: Args.string({description: 'a bench result (tfsopt bench --out run.json)', required: true}),
  }

  static override flags = {
    concurrency: numberListFlag('closed-loop connections to forecast (list)', {min: 1, integer: true}),
    rate: numberListFlag('open-loop Poisson rates to forecast, req/s (list)', {min: 0.001}),
    workers: Flags.integer({description: 'forecast with this many workers instead of the setting’s (its measured capacity then no longer applies)', min: 1}),
    'max-mean-ms': numberFlag('capacity question: the highest load whose forecast mean latency stays within this, ms', {positive: true}),
    'max-p99-ms': numberFlag('capacity question: the highest load whose p99 estimate stays within this, ms', {positive: true}),
    'workers-for': numberFlag('with --max-mean-ms/--max-p99-ms: the fewest workers (up to 16) for this open-loop rate, req/s', {positive: true}),
  }

  async run(): Promise<QueueForecastResult> {
    const {args, flags} = await this.parse(QueueForecast)
    const settings = forecastRun(loadRun(args.run), {
      concurrency: flags.concurrency ?? [],
      rate: flags.rate ?? [],
      workers: flags.workers,
      maxMeanMs: flags['max-mean-ms'],
      maxP99Ms: flags['max-p99-ms'],
      workersForRate: flags['workers-for'],
    })
    this.say(settings.map(render).join('\n\n'))
    return {run: args.run, settings}
  }
}

function render(s: SettingForecast): string {
  const head = ['load', 'workers', 'req/s', 'mean (ms)', 'p99 est. (ms)', 'note']
  const rows = s.rows.map((r) => [r.load, r.workers, r.throughput, r.meanMs, r.p99Ms, r.note])
  return [
    `setting ${s.serverKey} — calibrated on ${s.calibrationIds.map((id) => id.match(/c=\d+|rate=[\d.]+/)?.[0] ?? id).join(', ')}`,
    ...(rows.length ? [renderQueueTable(head, rows)] : []),
    ...s.answers.map((a) => `  ${a}`),
  ].join('\n')
}
