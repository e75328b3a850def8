import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.js'
import {parseNumberFlag} from '../../cli/flags.js'
import {ms, sec} from '../../cli/queue-flags.js'
import {renderQueueTable} from '../../report/queue-tables.js'
import {compareCache} from '../../queueing/articles.js'
import {cacheCapacity} from '../../queueing/cache.js'

export interface QueueCacheResult {
  hitRatio: number
  hitTimeMs: number
  missTimeMs: number
  effectiveLatencyMs: number
  /** Capacity gain t_miss / E[T], treating the hit and miss times as the server's work per request. */
  capacityGain: number | null
  article: {label: string; formula: string; valueMixedUnits: number | null; relDiffFromCorrect: number | null; why: string}
}

export default class QueueCache extends BaseCommand {
  static override summary = "Cache model: effective latency H·t_hit + (1−H)·t_miss, beside the seed article's (wrong) form."
  static override description =
    `Mean latency with hit ratio H is the mixture H·t_hit + (1−H)·t_miss; if the times are the server's work per request, capacity rises by t_miss / that mean.
For comparison it prints seed article 000's T_c = L(1−H) + 1/H (L = miss time in ms), labelled: it adds the unitless 1/H to a time, so its value depends on the time unit, and it grows without bound as H → 0.`

  static override examples = [
    '<%= config.bin %> queue cache --hit-ratio 0.8 --hit-time 0.2 --miss-time 12',
    '<%= config.bin %> queue cache --hit-ratio 0.3 --hit-time 0.5 --miss-time 20 --json',
  ]

  static override flags = {
    'hit-ratio': Flags.string({char: 'H', description: 'hit ratio H = hits/requests, between 0 and 1', required: true}),
    'hit-time': Flags.string({description: 'latency of a cache hit, MILLISECONDS', required: true}),
    'miss-time': Flags.string({description: 'latency of a cache miss, MILLISECONDS', required: true}),
  }

  async run(): Promise<QueueCacheResult> {
    const {flags} = await this.parse(QueueCache)
    const h = parseNumberFlag(flags['hit-ratio'], '--hit-ratio', {min: 0, max: 1})
    const hitMs = parseNumberFlag(flags['hit-time'], '--hit-time', {min: 0})
    const missMs = parseNumberFlag(flags['miss-time'], '--miss-time', {positive: true})
    // The comparison is computed in milliseconds, the unit the article's L would be read in here.
    const cmp = compareCache(h, hitMs, missMs)
    const cap = cacheCapacity(h, sec(hitMs), sec(missMs))
    const result: QueueCacheResult = {
      hitRatio: h,
      hitTimeMs: hitMs,
      missTimeMs: missMs,
      effectiveLatencyMs: ms(h * sec(hitMs) + (1 - h) * sec(missMs)),
      capacityGain: Number.isFinite(cap.gain) ? cap.gain : null,
      article: {
        label: "seed article 000's form (incorrect)",
        formula: 'T_c = L(1−H) + 1/H, L = miss time in ms',
        valueMixedUnits: Number.isFinite(cmp.article) ? cmp.article : null,
        relDiffFromCorrect: cmp.relDiff,
        why: '1/H has no time unit (the result changes with the unit of L) and grows as the hit ratio falls, infinite at H = 0',
      },
    }
    this.say(
      renderQueueTable(
        ['form', 'value', 'note'],
        [
          ['H·t_hit + (1−H)·t_miss', `${result.effectiveLatencyMs.toPrecision(5)} ms`, 'correct mean latency'],
          ['capacity gain t_miss/E[T]', result.capacityGain === null ? '∞' : `${result.capacityGain.toPrecision(4)}×`, 'if these times are server work'],
          [
            'article: L(1−H) + 1/H',
            result.article.valueMixedUnits === null ? '∞' : `${result.article.valueMixedUnits.toPrecision(5)} (mixed units)`,
            `incorrect; ${cmp.relDiff === null ? '' : `${(cmp.relDiff * 100).toFixed(1)}% off; `}1/H has no time unit`,
          ],
        ],
      ),
    )
    return result
  }
}
