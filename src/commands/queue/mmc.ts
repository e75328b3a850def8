import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {parseNumberFlag} from '../../cli/flags.js'
import {ms, parsePercentiles, pKey, sec} from '../../cli/queue-flags.js'
import {renderQueueTable} from '../../report/queue-tables.js'
import {allenCunneen, approxResponseQuantile} from '../../queueing/ggc.js'
import {mdc} from '../../queueing/mdc.js'
import {mmc, mmcResponseQuantile, mmcWaitQuantile} from '../../queueing/mmc.js'

export interface QueueMmcResult {
  model: 'M/M/c'
  servers: number
  arrivalRatePerS: number
  serviceTimeMs: number
  offeredLoadErlangs: number
  utilisation: number
  probWait: number
  wqMs: number
  wMs: number
  lq: number
  l: number
  waitPercentilesMs: Record<string, number>
  responsePercentilesMs: Record<string, number>
  variants?: {
    serviceCv: number
    serviceScv: number
    allenCunneen: {wqMs: number; wMs: number; responsePercentilesMs: Record<string, number>; note: string}
    mdc: {wqMs: number; wqAllenCunneenMs: number; wMs: number; responsePercentilesMs: Record<string, number>; note: string}
  }
}

export default class QueueMmc extends BaseCommand {
  static override summary = 'M/M/c calculator: Erlang C, utilisation, mean waits and response-time percentiles.'
  static override description =
    `Open loop: Poisson arrivals at --arrival-rate (requests per second), --servers parallel workers, mean service time --service-time (milliseconds). Erlang C is computed through the Erlang B recursion; response-time percentiles are exact for M/M/c (FCFS), found by bisection on the tail.
With --service-cv (std/mean of the service time) it also prints the Allen-Cunneen G/G/c wait with Cs² = CV² and Poisson arrivals, and M/D/c (Cosmetatos); their percentiles are approximations (see docs/QUEUEING.md).
Exit 2 when ρ = λ·S/c ≥ 1 (no steady state).`

  static override examples = [
    '<%= config.bin %> queue mmc --servers 2 --arrival-rate 150 --service-time 10',
    '<%= config.bin %> queue mmc --servers 4 --arrival-rate 300 --service-time 12 --percentiles 50,90,99,99.9 --service-cv 0.2',
    '<%= config.bin %> queue mmc --servers 1 --arrival-rate 80 --service-time 10 --json',
  ]

  static override flags = {
    servers: Flags.integer({char: 'c', description: 'parallel servers (workers) c', min: 1, required: true}),
    'arrival-rate': Flags.string({char: 'l', description: 'arrival rate λ, requests per SECOND', required: true}),
    'service-time': Flags.string({char: 's', description: 'mean service time E[S] per request, in MILLISECONDS', required: true}),
    percentiles: Flags.string({description: 'response-time percentiles to report, in percent, comma-separated', default: '50,95,99'}),
    'service-cv': Flags.string({
      description: 'coefficient of variation of the service time (std/mean; 0 = constant, 1 = exponential): adds Allen-Cunneen and M/D/c',
    }),
  }

  async run(): Promise<QueueMmcResult> {
    const {flags} = await this.parse(QueueMmc)
    const lambda = parseNumberFlag(flags['arrival-rate'], '--arrival-rate', {min: 0})
    const sMs = parseNumberFlag(flags['service-time'], '--service-time', {positive: true})
    const ps = parsePercentiles(flags.percentiles)
    const c = flags.servers
    const s = sec(sMs)
    const r = mmc({arrivalRate: lambda, serviceTime: s, servers: c})
    const pct = (f: (p: number) => number) => Object.fromEntries(ps.map((p) => [pKey(p), ms(f(p))]))
    const result: QueueMmcResult = {
      model: 'M/M/c',
      servers: c,
      arrivalRatePerS: lambda,
      serviceTimeMs: sMs,
      offeredLoadErlangs: r.offeredLoad,
      utilisation: r.utilisation,
      probWait: r.probWait,
      wqMs: ms(r.wq),
      wMs: ms(r.w),
      lq: r.lq,
      l: r.l,
      waitPercentilesMs: pct((p) => mmcWaitQuantile(r, p)),
      responsePercentilesMs: pct((p) => mmcResponseQuantile(r, p)),
    }
    if (flags['service-cv'] !== undefined) {
      const cv = parseNumberFlag(flags['service-cv'], '--service-cv', {min: 0})
      const ac = allenCunneen({arrivalRate: lambda, serviceTime: s, servers: c, arrivalScv: 1, serviceScv: cv * cv})
      const d = mdc({arrivalRate: lambda, serviceTime: s, servers: c})
      result.variants = {
        serviceCv: cv,
        serviceScv: cv * cv,
        allenCunneen: {
          wqMs: ms(ac.wq),
          wMs: ms(ac.w),
          responsePercentilesMs: pct((p) => approxResponseQuantile(ac, s, p)),
          note: 'Allen-Cunneen G/G/c approximation, Ca² = 1 (Poisson), Cs² = CV²; percentiles approximate (exponential conditional wait + constant service)',
        },
        mdc: {
          wqMs: ms(d.wq),
          wqAllenCunneenMs: ms(d.wqAllenCunneen),
          wMs: ms(d.w),
          responsePercentilesMs: pct((p) => d.responseQuantile(p)),
          note: 'M/D/c mean by Cosmetatos (1975); exact P-K for c = 1; percentiles approximate',
        },
      }
    }
    this.say(this.render(result))
    return result
  }

  private render(r: QueueMmcResult): string {
    const keys = Object.keys(r.responsePercentilesMs)
    const head = ['model', 'Wq (ms)', 'W (ms)', ...keys.map((k) => `${k} T (ms)`)]
    const rows: Array<Array<string | number | null>> = [['M/M/c (exact)', r.wqMs, r.wMs, ...keys.map((k) => r.responsePercentilesMs[k] ?? null)]]
    if (r.variants) {
      const v = r.variants
      rows.push([
        `Allen-Cunneen (Cs²=${v.serviceScv.toPrecision(3)})`,
        v.allenCunneen.wqMs,
        v.allenCunneen.wMs,
        ...keys.map((k) => v.allenCunneen.responsePercentilesMs[k] ?? null),
      ])
      rows.push(['M/D/c (Cosmetatos)', v.mdc.wqMs, v.mdc.wMs, ...keys.map((k) => v.mdc.responsePercentilesMs[k] ?? null)])
    }
    return [
      `M/M/c: c = ${r.servers}, λ = ${r.arrivalRatePerS}/s, E[S] = ${r.serviceTimeMs} ms → a = ${r.offeredLoadErlangs.toPrecision(4)} Erlangs, ρ = ${r.utilisation.toPrecision(4)}, C(c,a) = P(wait) = ${r.probWait.toPrecision(4)}, Lq = ${r.lq.toPrecision(4)}, L = ${r.l.toPrecision(4)}`,
      renderQueueTable(head, rows),
      ...(r.variants ? ['Allen-Cunneen and M/D/c percentiles are approximations (docs/QUEUEING.md).'] : []),
    ].join('\n')
  }
}
