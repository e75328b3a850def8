import {articleCacheForm, cacheLatency} from './cache.js'

/**
 * The seed articles' formulas next to their corrections (queueing.md, "The seed articles' formulas,
 * and what is right"), so reports can print "article says X, correct form Y, they differ by Z%".
 * The articles' result tables are illustrative, never expectations.
 */
export interface ArticleFormula {
  id: 'throughput-efficiency' | 'cache' | 'load-balancing' | 'node-load' | 'preprocessing' | 'quantisation' | 'result-tables'
  seed: string
  articleForm: string
  problem: string
  correctForm: string
  /** true when the article's form is fine as it is. */
  agrees: boolean
}

export const ARTICLE_FORMULAS: readonly ArticleFormula[] = [
  {
    id: 'throughput-efficiency',
    seed: '000',
    articleForm: 'T = P/(t·N), P = N·t − m, so T = 1 − m/(t·N)',
    problem: 'a normalised efficiency, not a throughput; it rises monotonically with N, which contention and coherency contradict',
    correctForm: 'USL X(N) = λN/(1 + σ(N−1) + κN(N−1)) fitted by nonlinear least squares',
    agrees: false,
  },
  {
    id: 'cache',
    seed: '000',
    articleForm: 'T_c = L(1−H) + 1/H',
    problem: '1/H has no time unit and grows as the hit ratio falls (infinite at H = 0)',
    correctForm: 'E[T] = H·t_hit + (1−H)·t_miss',
    agrees: false,
  },
  {
    id: 'load-balancing',
    seed: '000',
    articleForm: 'T_T = Σ P_i/(t·N); balanced: T_T = P/M',
    problem: 'the balanced form divides where it should multiply',
    correctForm: 'aggregate capacity Σ μ_i = M·μ; with round robin each of M nodes sees λ/M',
    agrees: false,
  },
  {
    id: 'node-load',
    seed: '003',
    articleForm: 'node load = Σ_j w_j·s_j / Σ_i w_i',
    problem: 'none: a weighted share of work',
    correctForm: 'same; report the per-node measured share',
    agrees: true,
  },
  {
    id: 'preprocessing',
    seed: '000',
    articleForm: 'T_d = D(1−S) + 1/S',
    problem: 'same unit error as the cache form',
    correctForm: 'remaining time D(1−S); time saved D·S, S = fraction of work removed',
    agrees: false,
  },
  {
    id: 'quantisation',
    seed: '001',
    articleForm: 'q(x) = round(x·q_s), error |q(x) − x|',
    problem: 'q_s is the inverse step; the error must compare the dequantised value, not the integer code',
    correctForm: 'q = round(x/Δ), x̂ = Δ·q, |x̂ − x| ≤ Δ/2',
    agrees: false,
  },
  {
    id: 'result-tables',
    seed: '000–003',
    articleForm: 'result tables (e.g. 1000 → 3000 req/s)',
    problem: 'illustrative, not measurements',
    correctForm: 'never reuse them as expectations; measure',
    agrees: false,
  },
]

export interface ArticleComparison {
  id: ArticleFormula['id']
  articleForm: string
  correctForm: string
  article: number
  correct: number
  /** (article − correct)/correct; null when correct is 0. */
  relDiff: number | null
  unit: string
  note: string
}

function compare(id: ArticleFormula['id'], article: number, correct: number, unit: string, note: string): ArticleComparison {
  const f = ARTICLE_FORMULAS.find((a) => a.id === id)!
  return {
    id,
    articleForm: f.articleForm,
    correctForm: f.correctForm,
    article,
    correct,
    relDiff: correct !== 0 && Number.isFinite(article) ? (article - correct) / correct : null,
    unit,
    note,
  }
}

/** Cache: L taken as the miss latency (seconds); the article ignores t_hit. */
export function compareCache(hitRatio: number, hitTime: number, missTime: number): ArticleComparison {
  return compare(
    'cache',
    articleCacheForm(hitRatio, missTime),
    cacheLatency(hitRatio, hitTime, missTime),
    's',
    "article's value adds the unitless 1/H to seconds: it changes with the time unit and is infinite at H = 0",
  )
}

/** Preprocessing: D = time before (s), S = fraction of the work removed; compares remaining time. */
export function comparePreprocessing(duration: number, removed: number): ArticleComparison {
  return compare(
    'preprocessing',
    duration * (1 - removed) + 1 / removed,
    duration * (1 - removed),
    's',
    `correct remaining time D(1−S); time saved D·S = ${duration * removed}`,
  )
}

/** Load balancing over M identical nodes of capacity P (req/s each). */
export function compareLoadBalancing(perNodeCapacity: number, nodes: number): ArticleComparison {
  return compare('load-balancing', perNodeCapacity / nodes, perNodeCapacity * nodes, 'req/s', 'aggregate capacity multiplies by the node count')
}

/** The article's "throughput" 1 − m/(tN) against a measured/fitted efficiency X(N)/(N·X(1)). */
export function compareEfficiency(overhead: number, time: number, n: number, measuredEfficiency: number): ArticleComparison {
  return compare(
    'throughput-efficiency',
    1 - overhead / (time * n),
    measuredEfficiency,
    'fraction',
    "the article's efficiency only rises with N; measured efficiency X(N)/(N·X(1)) falls under contention",
  )
}

/** Quantisation error of one value x with step Δ (q_s = 1/Δ in the article). */
export function compareQuantisation(x: number, step: number): ArticleComparison {
  const code = Math.round(x / step)
  return compare(
    'quantisation',
    Math.abs(code - x),
    Math.abs(step * code - x),
    'value units',
    'the article compares the integer code with x; the error is |Δ·q − x| ≤ Δ/2',
  )
}
