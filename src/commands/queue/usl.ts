import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {BaseCommand} from '../../base-command.js'
import {errorMessage, usageError} from '../../errors.js'
import {renderQueueTable} from '../../report/queue-tables.js'
import {fitUsl, uslThroughput, type UslFit} from '../../queueing/usl.js'
import {parseUslData} from '../../queueing/usl-data.js'

export interface QueueUslResult {
  model: 'USL'
  fit: UslFit
  /** The fitted curve X(N) (req/s) and R(N) = N/X (ms) for N = 1..max(measured N, 1.5·N_max). */
  curve: Array<{concurrency: number; throughput: number; responseTimeMs: number}>
}

export default class QueueUsl extends BaseCommand {
  static override summary = 'Fit the Universal Scalability Law to (concurrency, throughput) points.'
  static override description =
    `X(N) = λN / (1 + σ(N−1) + κN(N−1)), fitted by three-parameter nonlinear least squares (Levenberg-Marquardt, σ, κ ≥ 0) on throughput residuals. Reports σ (contention), κ (coherency), λ (req/s of one client), the peak N_max = floor(√((1−σ)/κ)) and X_max = X(N_max), residuals and parameter standard errors.
--data is CSV (header optional: concurrency,throughput) or JSON ([{"concurrency":1,"throughput":950},...] or [[1,950],...]); throughput in requests per second. At least 6 points are needed (exit 2 otherwise).`

  static override examples = ['<%= config.bin %> queue usl --data sweep.csv', '<%= config.bin %> queue usl --data points.json --json > usl.json']

  static override flags = {
    data: Flags.string({char: 'd', description: 'file of (concurrency, throughput req/s) points: CSV or JSON', required: true}),
  }

  async run(): Promise<QueueUslResult> {
    const {flags} = await this.parse(QueueUsl)
    let text: string
    try {
      text = readFileSync(flags.data, 'utf8')
    } catch (err) {
      throw usageError(`cannot read --data ${flags.data}: ${errorMessage(err)}; give a CSV or JSON file of concurrency,throughput points`)
    }
    const fit = fitUsl(parseUslData(text, flags.data))
    const maxN = Math.max(...fit.points.map((p) => p.concurrency), fit.nMax !== null ? Math.ceil(1.5 * fit.nMax) : 0)
    const curve = []
    for (let n = 1; n <= Math.min(maxN, 1024); n++) {
      const x = uslThroughput(fit, n)
      curve.push({concurrency: n, throughput: x, responseTimeMs: (n / x) * 1000})
    }
    this.say(this.render(fit))
    return {model: 'USL', fit, curve}
  }

  private render(f: UslFit): string {
    const se = (v: number | null) => (v === null ? '' : ` ± ${v.toPrecision(2)}`)
    const peak =
      f.peakKind === 'peak'
        ? `N_max = ${f.nMax} (peak at N = ${f.nPeak?.toPrecision(4)}), X_max = ${f.xMax?.toPrecision(6)} req/s`
        : f.peakKind === 'asymptote'
          ? `κ = 0 (Amdahl): no peak, X → λ/σ = ${f.xMax?.toPrecision(6)} req/s`
          : 'σ = κ = 0: linear scaling in this range'
    return [
      `USL fit: σ = ${f.sigma.toPrecision(4)}${se(f.stdErr.sigma)}, κ = ${f.kappa.toPrecision(4)}${se(f.stdErr.kappa)}, λ = ${f.lambda.toPrecision(6)}${se(f.stdErr.lambda)} req/s`,
      peak,
      `${f.contentionLimited ? 'contention-limited (σ > κ)' : 'coherency-limited (κ ≥ σ)'}; RMSE ${f.rmse.toPrecision(4)} req/s; pseudo-R² ${f.pseudoR2.toFixed(4)} (descriptive only for a nonlinear fit)`,
      renderQueueTable(
        ['N', 'measured (req/s)', 'fitted (req/s)', 'residual', 'rel. error'],
        f.points.map((p) => [p.concurrency, p.measured, p.fitted, p.residual, `${(p.relErr * 100).toFixed(2)}%`]),
      ),
    ].join('\n')
  }
}
