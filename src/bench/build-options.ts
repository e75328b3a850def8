/**
 * The one place `tfsopt bench` options get their defaults. Flags arrive as parsed values, `undefined`
 * when the user did not give them, so "given by the user" is known whatever the spelling
 * (`--duration 5`, `--duration=5`): the sweep's shorter windows and the gate's minimum window count
 * only fill in what was not given.
 */
import {usageError} from '../errors.js'
import {DEFAULT_MODEL_NAME} from '../fixtures.js'
import {minSamplesPerSide} from '../stats/mann-whitney.js'
import {DEFAULT_SWEEP} from './defaults.js'
import {validateOptions, type BenchOptions} from './options.js'
import type {Protocol} from './protocol-bodies.js'
import type {Arrival} from './schedule.js'
import {splitFlags} from './server-process.js'
import {BALANCER_POLICIES, type BalancerPolicy} from './balancer-config.js'
import {parseLbPolicy} from '../queueing/cluster.js'

/** Single-point defaults (docs/BENCH.md); --sweep replaces the window ones by DEFAULT_SWEEP's. */
export const POINT_DEFAULTS = {windowS: 2, warmupS: 2, windows: 3, maxWindows: 10, stabilityPct: 10, stabilityOn: 'mean' as const, minWindowRequests: 200}

export interface BenchFlags {
  url?: string
  modelName?: string
  sweep: boolean
  concurrency?: number[]
  rate?: number[]
  arrival: Arrival
  clientBatch?: number[]
  repeatRatio?: number[]
  protocol?: Protocol[]
  grpcTarget?: string
  workers?: number[]
  intraOpThreads?: number[]
  maxBatchSize?: number[]
  batchTimeoutMicros?: number[]
  cacheSize?: number[]
  serverFlags?: string
  replicas?: number[]
  lb?: string[]
  balancer?: 'nginx' | 'haproxy'
  /** --device for every built-in server (passed through like --server-flags). */
  device?: string
  data?: string
  duration?: number
  warmup?: number
  windows?: number
  maxWindows?: number
  stability?: number
  stabilityOn?: 'mean' | 'p99'
  windowRequests?: number
  search: 'grid' | 'adaptive'
  sloP99?: number
  repeat: number
  compareModel?: string
  failFast: boolean
  timeout: number
  seed: number
  /** Set when the run will be judged or saved by the gate (--baseline / --save-baseline). */
  gate?: {alpha: number; flag: '--baseline' | '--save-baseline'}
}

export function buildBenchOptions(f: BenchFlags, args: {model?: string}): BenchOptions {
  if (f.url && f.device) throw usageError("--device picks the built-in server's device; a server at --url runs where it runs: leave out --device")
  if (f.url && !f.modelName) throw usageError('--url needs --model-name (TF Serving URLs name the model)')
  const noLoad = !f.concurrency?.length && !f.rate?.length
  const sweep = f.sweep || (noLoad && !args.model && !f.url)
  const o: BenchOptions = {
    model: args.model,
    compareModel: f.compareModel,
    url: f.url?.replace(/\/+$/, ''),
    modelName: f.modelName ?? DEFAULT_MODEL_NAME,
    data: f.data,
    concurrency: f.concurrency ?? [],
    rate: f.rate ?? [],
    arrival: f.arrival,
    clientBatch: f.clientBatch ?? [1],
    repeatRatio: f.repeatRatio ?? [0],
    protocol: f.protocol ?? ['tfs-rest'],
    grpcTarget: f.grpcTarget,
    server: {
      workers: f.workers ?? [],
      intraOpThreads: f.intraOpThreads ?? [],
      maxBatchSize: f.maxBatchSize ?? [],
      batchTimeoutMicros: f.batchTimeoutMicros ?? [],
      cacheSize: f.cacheSize ?? [],
    },
    serverFlags: [...splitFlags(f.serverFlags), ...(f.device ? ['--device', f.device] : [])],
    replicas: f.replicas ?? [],
    lb: [...new Set((f.lb ?? []).filter((s) => s.trim() !== '').map(parseBalancerPolicy))],
    balancer: f.balancer ?? 'nginx',
    // Shorter windows than the single-point defaults keep the whole sweep near two minutes.
    warmupS: f.warmup ?? (sweep ? DEFAULT_SWEEP.warmupS : POINT_DEFAULTS.warmupS),
    windowS: f.duration ?? (sweep ? DEFAULT_SWEEP.windowS : POINT_DEFAULTS.windowS),
    minWindows: f.windows ?? POINT_DEFAULTS.windows,
    maxWindows: f.maxWindows ?? (sweep ? DEFAULT_SWEEP.maxWindows : POINT_DEFAULTS.maxWindows),
    stabilityPct: f.stability ?? POINT_DEFAULTS.stabilityPct,
    stabilityOn: f.stabilityOn ?? POINT_DEFAULTS.stabilityOn,
    minWindowRequests: f.windowRequests ?? POINT_DEFAULTS.minWindowRequests,
    search: f.search,
    sloP99Ms: f.sloP99,
    repeat: f.repeat,
    failFast: f.failFast,
    seed: f.seed,
    timeoutS: f.timeout,
  }
  if (sweep) {
    if (noLoad) o.concurrency = DEFAULT_SWEEP.concurrency
    if (!o.url && !o.server.maxBatchSize.length) o.server.maxBatchSize = DEFAULT_SWEEP.maxBatchSize
  }
  if (f.gate) applyGateMinimum(o, f.gate, f.windows !== undefined)
  validateOptions(o)
  return o
}

/**
 * The gate's statistics run on per-window samples: a baseline or a comparison needs enough windows per
 * point to ever reach significance (4 per side at alpha 0.05), plus one to spare. Refused before
 * measuring, not after, when the user asked for fewer: every point would be "too few to compare".
 */
function applyGateMinimum(o: BenchOptions, gate: NonNullable<BenchFlags['gate']>, windowsGiven: boolean): void {
  const needed = minSamplesPerSide(gate.alpha)
  if (!windowsGiven) {
    o.minWindows = Math.max(o.minWindows, needed + 1)
    o.maxWindows = Math.max(o.maxWindows, o.minWindows)
  }
  if (o.minWindows * o.repeat < needed) {
    const have = o.repeat > 1 ? `--windows ${o.minWindows} × --repeat ${o.repeat}: ${o.minWindows * o.repeat}` : `--windows ${o.minWindows}: ${o.minWindows}`
    throw usageError(
      `${have} windows per point are too few for the gate (${gate.flag}): at --alpha ${gate.alpha} the Mann-Whitney test needs at least ${needed} windows per point to ever reach significance (10 or more advised)`,
    )
  }
}

/** A policy a real balancer runs (random and central are models only, see `tfsopt queue lb`). */
function parseBalancerPolicy(s: string): BalancerPolicy {
  const p = parseLbPolicy(s)
  if (!(BALANCER_POLICIES as readonly string[]).includes(p))
    throw usageError(`--lb ${s}: the balancers run ${BALANCER_POLICIES.join(', ')}; "${p}" is a model only (tfsopt queue lb --policy ${p})`)
  return p as BalancerPolicy
}
