/**
 * Validated bench options and the sweep plan they expand to. Validation returns plain messages
 * (autocannon's validate.js style) as E_USAGE errors, exit 2.
 */
import {usageError} from '../errors.js'
import type {Arrival} from './schedule.js'
import type {ClientConfig, ServerConfig} from '../results/bench-run.js'
import {isGrpc, type Protocol} from './protocol-bodies.js'
import type {Balancer, BalancerPolicy} from './balancer-config.js'

export interface BenchOptions {
  /** Model file for the built-in server (undefined with --url). */
  model?: string
  /** A/B model for --compare-model (built-in target only). */
  compareModel?: string
  url?: string
  modelName: string
  data?: string
  concurrency: number[]
  rate: number[]
  arrival: Arrival
  clientBatch: number[]
  repeatRatio: number[]
  /** Wire protocols, each a client variant of its own (default TF Serving REST). */
  protocol: Protocol[]
  /** host:port of an external server's gRPC endpoint (with --url and a gRPC protocol). */
  grpcTarget?: string
  server: {workers: number[]; intraOpThreads: number[]; maxBatchSize: number[]; batchTimeoutMicros: number[]; cacheSize: number[]}
  serverFlags: string[]
  /** --replicas: replica counts to sweep (empty: one server, no balancer). */
  replicas?: number[]
  /** --lb: balancing policies to sweep (with --replicas). */
  lb?: BalancerPolicy[]
  balancer?: Balancer
  warmupS: number
  windowS: number
  minWindows: number
  maxWindows: number
  stabilityPct: number
  /** The latency the stability rule judges: mean (perf_analyzer's default) or p99. */
  stabilityOn?: 'mean' | 'p99'
  /** Count windows: each window lasts long enough for this many requests at the warm-up rate (0 = off). */
  minWindowRequests?: number
  search: 'grid' | 'adaptive'
  sloP99Ms?: number
  repeat: number
  failFast: boolean
  seed: number
  timeoutS: number
}

export interface PlannedPoint {
  model: string
  modelPath?: string
  server: ServerConfig
  client: ClientConfig
}

/** Parses "1,2,4" and ranges "1:64:x2" (geometric) or "10:50:10" (arithmetic) into numbers. */
export function parseList(s: string | undefined, name: string, opts: {integer?: boolean; min?: number; max?: number} = {}): number[] {
  if (s === undefined || s === '') return []
  const out: number[] = []
  for (const part of s
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const r = /^([\d.]+):([\d.]+)(?::(x?)([\d.]+))?$/.exec(part)
    if (r) {
      const [a, b, geo, step] = [Number(r[1]), Number(r[2]), r[3] === 'x', Number(r[4] ?? (r[3] === 'x' ? 2 : 1))]
      if (!(step > (geo ? 1 : 0))) throw usageError(`--${name}: bad step in range ${part}`)
      for (let v = a; v <= b + 1e-9; v = geo ? v * step : v + step) out.push(v)
    } else out.push(Number(part))
  }
  for (const v of out) {
    if (!Number.isFinite(v)) throw usageError(`--${name}: "${s}" is not a list of numbers (e.g. 1,2,4 or 1:64:x2)`)
    if (opts.integer && !Number.isInteger(v)) throw usageError(`--${name}: ${v} must be a whole number`)
    if (opts.min !== undefined && v < opts.min) throw usageError(`--${name} can not be less than ${opts.min} (got ${v})`)
    if (opts.max !== undefined && v > opts.max) throw usageError(`--${name} can not be more than ${opts.max} (got ${v})`)
  }
  return [...new Set(out)]
}

/** Cartesian product of the server-side lists; an empty list leaves the server default (undefined). */
export function serverGrid(o: BenchOptions): ServerConfig[] {
  const axes: Array<[keyof ServerConfig, number[]]> = [
    ['workers', o.server.workers],
    ['intraOpThreads', o.server.intraOpThreads],
    ['maxBatchSize', o.server.maxBatchSize],
    ['batchTimeoutMicros', o.server.batchTimeoutMicros],
    ['cacheSize', o.server.cacheSize],
  ]
  let grid: ServerConfig[] = [{}]
  for (const [k, vs] of axes) {
    if (!vs.length) continue
    grid = grid.flatMap((g) => vs.map((v) => ({...g, [k]: v})))
  }
  if (o.serverFlags.length) grid = grid.map((g) => ({...g, extraFlags: o.serverFlags}))
  if (o.replicas?.length) {
    const lbs = o.lb?.length ? o.lb : (['round-robin'] as BalancerPolicy[])
    // One replica behind the balancer has no choice to make: measure it once, with the first policy.
    grid = grid.flatMap((g) =>
      (o.replicas ?? []).flatMap((replicas) =>
        (replicas === 1 ? [lbs[0]!] : lbs).map((lb) => ({...g, replicas, lb, ...(o.balancer === 'haproxy' ? {balancer: o.balancer} : {})})),
      ),
    )
  }
  return grid
}

/** Client-side variants other than the load level (which the grid or the adaptive search picks). */
export function clientVariants(o: BenchOptions): Array<Omit<ClientConfig, 'concurrency' | 'rate'> & {loads: number[]}> {
  const out: Array<Omit<ClientConfig, 'concurrency' | 'rate'> & {loads: number[]}> = []
  for (const p of o.protocol) {
    // TF Serving REST stays unnamed so points keep the ids (and baselines) they had before --protocol.
    const protocol = p === 'tfs-rest' ? {} : {protocol: p}
    for (const clientBatch of o.clientBatch)
      for (const repeatRatio of o.repeatRatio) {
        if (o.concurrency.length) out.push({mode: 'closed', clientBatch, repeatRatio, ...protocol, loads: [...o.concurrency].sort((a, b) => a - b)})
        if (o.rate.length) out.push({mode: 'open', arrival: o.arrival, clientBatch, repeatRatio, ...protocol, loads: [...o.rate].sort((a, b) => a - b)})
      }
  }
  return out
}

export function validateOptions(o: BenchOptions): void {
  if (!o.concurrency.length && !o.rate.length) throw usageError('give --concurrency or --rate (or --sweep for the default sweep)')
  if (o.windowS <= 0) throw usageError('--duration must be positive (seconds per measurement window)')
  if (o.warmupS < 0) throw usageError('--warmup can not be negative')
  if (o.minWindows < 1) throw usageError('--windows can not be less than 1')
  if (o.maxWindows < o.minWindows) throw usageError(`--max-windows (${o.maxWindows}) can not be less than --windows (${o.minWindows})`)
  if (!(o.stabilityPct > 0)) throw usageError('--stability must be a positive percentage')
  if (o.repeat < 1) throw usageError('--repeat can not be less than 1')
  if (o.sloP99Ms !== undefined && !(o.sloP99Ms > 0)) throw usageError('--slo-p99 must be a positive number of milliseconds')
  if (o.url && o.compareModel) throw usageError('--compare-model needs the built-in server (it serves each model in turn); drop --url')
  if (!o.protocol.length) throw usageError('--protocol needs at least one protocol')
  if (o.lb?.length && !o.replicas?.length) throw usageError('--lb needs --replicas (e.g. --replicas 1,2,4 --lb round-robin,least-conn)')
  if (o.url && o.replicas?.length)
    throw usageError('--replicas starts its own replicas and balancer; with --url point it at your balancer and leave --replicas out')
  if (o.replicas?.length && o.protocol.some(isGrpc)) throw usageError('--replicas balances HTTP only: use --protocol tfs-rest or v2-rest')
  const grpc = o.protocol.filter(isGrpc)
  if (o.url && grpc.length && !o.grpcTarget)
    throw usageError(
      `--protocol ${grpc.join(',')} against --url needs --grpc-target HOST:PORT (the server's gRPC port, e.g. 8500 for TF Serving); --url stays the REST address for status, metadata and metrics`,
    )
  if (o.grpcTarget && !o.url) throw usageError("--grpc-target names an external server's gRPC port: give it with --url (the built-in server opens its own)")
  if (o.grpcTarget && !/^(\[[^\]]+\]|[^:/\s]+):\d{1,5}$/.test(o.grpcTarget))
    throw usageError(`--grpc-target must be HOST:PORT (e.g. 10.0.0.5:8500), got "${o.grpcTarget}"`)
}

/** Canonical key of a point: the gate compares points with equal ids across runs. */
export function pointId(p: {model: string; server: ServerConfig; client: ClientConfig}): string {
  const s = p.server
  const parts = [`model=${p.model}`]
  const add = (k: string, v: unknown) => {
    if (v !== undefined) parts.push(`${k}=${v}`)
  }
  add('workers', s.workers)
  add('threads', s.intraOpThreads)
  add('maxBatch', s.maxBatchSize)
  add('timeoutUs', s.batchTimeoutMicros)
  add('cache', s.cacheSize)
  add('replicas', s.replicas)
  add('lb', s.lb)
  if (s.balancer && s.balancer !== 'nginx') add('balancer', s.balancer)
  // --server-flags are deliberately not part of the id: a run with "--inject-latency-ms 5" must
  // match its baseline point so the gate can see the slowdown. They are recorded in settings.
  const c = p.client
  parts.push(c.mode === 'closed' ? `c=${c.concurrency}` : `rate=${c.rate}/${c.arrival}`)
  parts.push(`batch=${c.clientBatch}`, `repeat=${c.repeatRatio}`)
  if (c.protocol) parts.push(`protocol=${c.protocol}`)
  return parts.join(',')
}
