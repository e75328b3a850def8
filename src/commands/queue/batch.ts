import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {parseNumberFlag} from '../../cli/flags.js'
import {ms, sec} from '../../cli/queue-flags.js'
import {renderQueueTable} from '../../report/queue-tables.js'
import {batchLatency, batchTime} from '../../queueing/batching.js'

export interface QueueBatchResult {
  model: string
  alphaMs: number
  betaMs: number
  maxBatchSize: number
  timeoutMicros: number
  workers: number
  arrivalRatePerS: number
  batchTimeAtMaxMs: number
  capacityPerS: number
  capacityPerWorkerPerS: number
  capacityAsymptotePerS: number | null
  meanBatchSize: number
  batchRatePerS: number
  utilisation: number
  formationWaitMs: number
  queueWaitMs: number
  serviceMs: number
  meanLatencyMs: number
  notes: string[]
}

export default class QueueBatch extends BaseCommand {
  static override summary = 'Batching model t(b) = α + βb: capacity and predicted mean latency.'
  static override description =
    `Per-batch time t(b) = α + β·b (α fixed cost per batch, β cost per item, both in MILLISECONDS). Capacity with c workers and max batch B is c·B/t(B) (→ c/β). Mean latency at --arrival-rate (req/s, Poisson) for TF Serving's batcher (a batch closes when full or --timeout-micros after its first request; 0 = take what is queued):
timeout > 0: exact batch-formation wait + Allen-Cunneen queueing of batches + the batch's own time; timeout 0 (or backlog): greedy steady state b* = λ_w·α/(1 − λ_w·β), latency ≈ 1.5·t(b*) (a derivation to validate against measurements). See docs/QUEUEING.md.
Exit 2 when the arrival rate reaches the capacity.`

  static override examples = [
    '<%= config.bin %> queue batch --alpha 5 --beta 1 --max-batch-size 32 --arrival-rate 500',
    '<%= config.bin %> queue batch --alpha 5 --beta 1 --max-batch-size 32 --arrival-rate 200 --timeout-micros 2000 --workers 2 --json',
  ]

  static override flags = {
    alpha: Flags.string({description: 'fixed time per batch α, MILLISECONDS', required: true}),
    beta: Flags.string({description: 'time per item in a batch β, MILLISECONDS', required: true}),
    'max-batch-size': Flags.integer({char: 'b', description: 'maximum batch size B (requests)', min: 1, required: true}),
    'arrival-rate': Flags.string({char: 'l', description: 'arrival rate λ, requests per SECOND (Poisson)', required: true}),
    'timeout-micros': Flags.integer({description: 'batch timeout, MICROSECONDS (TF Serving batch_timeout_micros); 0 = greedy', min: 0, default: 0}),
    workers: Flags.integer({char: 'c', description: 'batch worker threads c (num_batch_threads)', min: 1, default: 1}),
  }

  async run(): Promise<QueueBatchResult> {
    const {flags} = await this.parse(QueueBatch)
    const alphaMs = parseNumberFlag(flags.alpha, '--alpha', {min: 0})
    const betaMs = parseNumberFlag(flags.beta, '--beta', {positive: true})
    const lambda = parseNumberFlag(flags['arrival-rate'], '--arrival-rate', {positive: true})
    const cost = {alpha: sec(alphaMs), beta: sec(betaMs)}
    const r = batchLatency({
      ...cost,
      maxBatchSize: flags['max-batch-size'],
      timeout: flags['timeout-micros'] / 1e6,
      workers: flags.workers,
      arrivalRate: lambda,
    })
    const result: QueueBatchResult = {
      model: r.model,
      alphaMs,
      betaMs,
      maxBatchSize: flags['max-batch-size'],
      timeoutMicros: flags['timeout-micros'],
      workers: flags.workers,
      arrivalRatePerS: lambda,
      batchTimeAtMaxMs: ms(batchTime(cost, flags['max-batch-size'])),
      capacityPerS: r.capacity.total,
      capacityPerWorkerPerS: r.capacity.perWorker,
      capacityAsymptotePerS: Number.isFinite(r.capacity.asymptote) ? r.capacity.asymptote : null,
      meanBatchSize: r.meanBatchSize,
      batchRatePerS: r.batchRate,
      utilisation: r.utilisation,
      formationWaitMs: ms(r.formationWaitS),
      queueWaitMs: ms(r.queueWaitS),
      serviceMs: ms(r.serviceS),
      meanLatencyMs: ms(r.meanLatencyS),
      notes: r.notes,
    }
    this.say(
      renderQueueTable(
        ['quantity', 'value'],
        [
          ['model', result.model],
          ['capacity c·B/t(B) (req/s)', result.capacityPerS],
          ['capacity limit c/β (req/s)', result.capacityAsymptotePerS],
          ['mean batch size', result.meanBatchSize],
          ['batch utilisation', result.utilisation],
          ['formation wait (ms)', result.formationWaitMs],
          ['queue wait (ms)', result.queueWaitMs],
          ['batch time (ms)', result.serviceMs],
          ['mean latency (ms)', result.meanLatencyMs],
        ],
      ),
    )
    for (const n of result.notes) this.say(`note: ${n}`)
    return result
  }
}
