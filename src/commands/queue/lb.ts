import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {parseNumberFlag} from '../../cli/flags.js'
import {ms, parsePercentiles, pKey, sec} from '../../cli/queue-flags.js'
import {renderQueueTable} from '../../report/queue-tables.js'
import {compareLoadBalancing} from '../../queueing/articles.js'
import {type LbPolicy, LB_POLICIES, parseLbPolicy, predictCluster} from '../../queueing/cluster.js'

export interface QueueLbRow {
  policy: LbPolicy
  method: string
  exact: boolean
  probWait: number
  wqMs: number
  wMs: number
  responsePercentilesMs: Record<string, number>
  note: string
}

export interface QueueLbResult {
  model: 'cluster'
  replicas: number
  arrivalRatePerS: number
  serviceTimeMs: number
  serviceScv: number
  utilisation: number
  policies: QueueLbRow[]
  article: {articleForm: string; correctForm: string; articleCapacityPerS: number; correctCapacityPerS: number}
}

export default class QueueLb extends BaseCommand {
  static override summary = 'Replicas behind a load balancer: mean wait, response time and percentiles per balancing policy.'
  static override description =
    `Open loop: Poisson arrivals at --arrival-rate (TOTAL requests per second) over --replicas identical replicas, each serving one request at a time in --service-time milliseconds on average.
Policies: round-robin (E_N/M/1, each replica sees Erlang-N inter-arrivals), least-conn (join-the-shortest-queue, exact lumped Markov chain), random-two (power of two choices, same chain; nginx "random two least_conn", HAProxy random(2)), random (N × M/M/1 at λ/N), central (M/M/N, the lower bound).
--service-cv 0 models a fixed service time (e.g. --inject-latency-ms): the means then use named approximations (Kingman, P-K, Cosmetatos). See docs/QUEUEING.md. Exit 2 when ρ = λ·S/N ≥ 1.`

  static override examples = [
    '<%= config.bin %> queue lb --replicas 4 --arrival-rate 160 --service-time 20',
    '<%= config.bin %> queue lb --replicas 4 --arrival-rate 160 --service-time 20 --policy round-robin,random-two,central --service-cv 0 --json',
  ]

  static override flags = {
    replicas: Flags.integer({char: 'n', description: 'number of identical replicas N', min: 1, required: true}),
    'arrival-rate': Flags.string({char: 'l', description: 'total arrival rate λ, requests per SECOND', required: true}),
    'service-time': Flags.string({char: 's', description: 'mean service time per request on one replica, in MILLISECONDS', required: true}),
    policy: Flags.string({description: `comma-separated policies: ${LB_POLICIES.join(', ')}`, default: LB_POLICIES.join(',')}),
    percentiles: Flags.string({description: 'response-time percentiles to report, in percent, comma-separated', default: '50,99'}),
    'service-cv': Flags.string({description: 'coefficient of variation of the service time (1 = exponential, the default; 0 = constant)', default: '1'}),
  }

  async run(): Promise<QueueLbResult> {
    const {flags} = await this.parse(QueueLb)
    const lambda = parseNumberFlag(flags['arrival-rate'], '--arrival-rate', {min: 0})
    const sMs = parseNumberFlag(flags['service-time'], '--service-time', {positive: true})
    const cv = parseNumberFlag(flags['service-cv'], '--service-cv', {min: 0})
    const ps = parsePercentiles(flags.percentiles)
    const policies = [
      ...new Set(
        flags.policy
          .split(',')
          .filter((p) => p.trim() !== '')
          .map(parseLbPolicy),
      ),
    ]
    const n = flags.replicas
    const input = {replicas: n, arrivalRate: lambda, serviceTime: sec(sMs), serviceScv: cv * cv}
    const rows = policies.map((policy): QueueLbRow => {
      const r = predictCluster(policy, input)
      return {
        policy,
        method: r.method,
        exact: r.exact,
        probWait: r.probWait,
        wqMs: ms(r.wq),
        wMs: ms(r.w),
        responsePercentilesMs: Object.fromEntries(ps.map((p) => [pKey(p), ms(r.responseQuantile(p))])),
        note: r.note,
      }
    })
    const perReplica = 1000 / sMs
    const art = compareLoadBalancing(perReplica, n)
    const result: QueueLbResult = {
      model: 'cluster',
      replicas: n,
      arrivalRatePerS: lambda,
      serviceTimeMs: sMs,
      serviceScv: cv * cv,
      utilisation: (lambda * sMs) / 1000 / n,
      policies: rows,
      article: {articleForm: art.articleForm, correctForm: art.correctForm, articleCapacityPerS: art.article, correctCapacityPerS: art.correct},
    }
    this.say(this.render(result))
    return result
  }

  private render(r: QueueLbResult): string {
    const keys = Object.keys(r.policies[0]?.responsePercentilesMs ?? {})
    const head = ['policy', 'model', 'P(wait)', 'Wq (ms)', 'W (ms)', ...keys.map((k) => `${k} T (ms)`)]
    const rows = r.policies.map((p) => [
      p.policy,
      `${p.method}${p.exact ? '' : ' (approx.)'}`,
      p.probWait,
      p.wqMs,
      p.wMs,
      ...keys.map((k) => p.responsePercentilesMs[k] ?? null),
    ])
    return [
      `${r.replicas} replicas, λ = ${r.arrivalRatePerS}/s total, E[S] = ${r.serviceTimeMs} ms, Cs² = ${r.serviceScv} → ρ = ${r.utilisation.toPrecision(4)} per replica`,
      renderQueueTable(head, rows),
      `capacity: ${r.article.correctForm} = ${r.article.correctCapacityPerS.toPrecision(4)}/s; the articles' "${r.article.articleForm}" gives ${r.article.articleCapacityPerS.toPrecision(4)}/s (divides where it should multiply)`,
    ].join('\n')
  }
}
