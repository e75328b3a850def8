/**
 * Measures one point: warm-up (discarded), then fixed-length windows until the last three agree within
 * --stability on throughput and mean latency (or p99; perf_analyzer's rule), up to a trial limit. The summary covers the
 * judged windows when stable and every window when not (and the point is then marked unstable).
 * Server metrics are scraped around the measured windows only.
 */
import {mergeHistograms, summarize, type Histogram} from './histogram.js'
import {judgeStability, type StabilityLatency, type StabilityVerdict} from './stability.js'
import {CpuMeter, machineBusySeconds, procCpuSeconds} from './cpu.js'
import {breakdown, scrape, type ServerBreakdown} from './scrape-metrics.js'
import type {LoadGenerator, WindowCounters} from './window.js'
import type {LatencySummary, WindowSample} from '../results/bench-run.js'

export interface MeasureOptions {
  warmupS: number
  windowS: number
  /** Windows judged by the stability rule (and the minimum measured). */
  minWindows: number
  /** Trial limit. */
  maxWindows: number
  stabilityPct: number
  /** The latency the stability rule judges (default mean, perf_analyzer's default). */
  stabilityOn?: StabilityLatency
  /**
   * Count windows (perf_analyzer's count_windows): a window lasts at least long enough for this many
   * requests at the rate measured during warm-up, so slow models get windows with enough samples.
   */
  minWindowRequests?: number
  signal?: AbortSignal
  /** Built-in server: false once the child has exited. */
  serverAlive?: () => boolean
  serverPid?: number
  /** Base URL whose /metrics is scraped; undefined = do not scrape. */
  metricsBase?: string
  /** Behind a balancer: each replica's base URL, scraped around the same windows as metricsBase. */
  replicaBases?: string[]
  onWindow?: (w: BenchWindow) => void
  /** Each window's latency histogram (µs), for merging repeats. */
  onHistogram?: (h: Histogram) => void
}

export interface BenchWindow extends WindowSample {
  p95Ms: number
  p999Ms: number
  non2xx: number
  timeouts: number
  connection: number
  sent: number
  lateSends: number
}

export interface PointMeasurement {
  windows: BenchWindow[]
  verdict: StabilityVerdict
  latency: LatencySummary
  throughput: number
  inferencesPerSec: number
  errors: {non2xx: number; timeouts: number; connection: number; total: number}
  sent: number
  lateSends: number
  clientCpuCores: number
  server?: ServerBreakdown
  /** One breakdown per replica (replicaBases), in order; undefined where a scrape failed. */
  replicas?: Array<ServerBreakdown | undefined>
  serverCpuCores?: number
  /** Cores the rest of the machine used meanwhile (other processes, steal): /proc/stat minus both of ours. */
  otherCpuCores?: number
  failed?: string
  aborted: boolean
  measuredS: number
  /** Mean requests in flight, sampled at window ends (for Little's law). */
  meanInflight: number
}

/** Longest a count window may stretch, as a multiple of --duration (a very slow model still finishes). */
export const MAX_WINDOW_STRETCH = 10

/**
 * The window length: --duration, stretched so that a window holds `minWindowRequests` at the warm-up's
 * rate (up to MAX_WINDOW_STRETCH × --duration). Without a warm-up rate the duration stands.
 */
export function windowLength(o: Pick<MeasureOptions, 'windowS' | 'minWindowRequests'>, warmRequests: number, warmS: number): number {
  const want = o.minWindowRequests ?? 0
  if (!(want > 0) || !(warmS > 0) || !(warmRequests > 0)) return o.windowS
  return Math.min(o.windowS * MAX_WINDOW_STRETCH, Math.max(o.windowS, want / (warmRequests / warmS)))
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}

function toWindow(index: number, w: WindowCounters, endNs: bigint): BenchWindow {
  const durationS = Number(endNs - w.startedAt) / 1e9
  const s = summarize(w.hist)
  return {
    index,
    durationS,
    requests: w.ok,
    inferences: w.inferences,
    throughput: durationS > 0 ? w.ok / durationS : 0,
    meanMs: s.meanMs,
    p50Ms: s.p50Ms,
    p90Ms: s.p90Ms,
    p95Ms: s.p95Ms,
    p99Ms: s.p99Ms,
    p999Ms: s.p999Ms,
    errors: w.non2xx + w.timeouts + w.connection,
    non2xx: w.non2xx,
    timeouts: w.timeouts,
    connection: w.connection,
    sent: w.sent,
    lateSends: w.lateSends,
  }
}

export async function measurePoint(gen: LoadGenerator, o: MeasureOptions): Promise<PointMeasurement> {
  const alive = o.serverAlive ?? (() => true)
  await gen.start()
  await sleep(o.warmupS * 1000, o.signal)
  const warm = gen.rotate()
  const windowS = windowLength(o, warm.ok, o.warmupS)
  const before = o.metricsBase ? await scrape(o.metricsBase) : undefined
  const replicasBefore = o.replicaBases ? await Promise.all(o.replicaBases.map((b) => scrape(b))) : undefined
  const serverCpu0 = o.serverPid ? procCpuSeconds(o.serverPid) : undefined
  const machine0 = machineBusySeconds()
  const cpu = new CpuMeter()
  const t0 = process.hrtime.bigint()
  gen.rotate() // the scrape took time: start the first window here
  const windows: BenchWindow[] = []
  const hists: Histogram[] = []
  let failed: string | undefined
  const on = o.stabilityOn ?? 'mean'
  let verdict = judgeStability([], o.stabilityPct, o.minWindows, on)
  let inflightSum = 0
  let deadWindows = 0
  while (!o.signal?.aborted) {
    await sleep(windowS * 1000, o.signal)
    if (o.signal?.aborted) break // a cut-short window would skew the stability judgement: drop it
    const counters = gen.rotate()
    inflightSum += gen.inflight()
    const w = toWindow(windows.length, counters, process.hrtime.bigint())
    windows.push(w)
    hists.push(counters.hist)
    o.onWindow?.(w)
    o.onHistogram?.(counters.hist)
    if (!alive()) {
      failed = 'the server exited during the measurement'
      break
    }
    // Two windows in a row with errors and not one success: the target is down or rejecting everything.
    deadWindows = w.requests === 0 && w.errors > 0 ? deadWindows + 1 : 0
    if (deadWindows >= 2) {
      failed = `no successful responses (${w.connection} connection errors, ${w.timeouts} timeouts, ${w.non2xx} non-2xx in the last window)`
      break
    }
    verdict = judgeStability(windows, o.stabilityPct, o.minWindows, on)
    if (verdict.stable || windows.length >= o.maxWindows) break
  }
  const measuredS = Number(process.hrtime.bigint() - t0) / 1e9
  const clientCpuCores = cpu.lap()
  const machine1 = machineBusySeconds()
  const after = o.metricsBase && alive() ? await scrape(o.metricsBase) : undefined
  const replicasAfter = o.replicaBases ? await Promise.all(o.replicaBases.map((b) => scrape(b))) : undefined
  const serverCpu1 = o.serverPid ? procCpuSeconds(o.serverPid) : undefined
  await gen.stop()

  const used = verdict.stable ? windows.slice(-o.minWindows) : windows
  const usedHists = verdict.stable ? hists.slice(-o.minWindows) : hists
  const dur = used.reduce((s, w) => s + w.durationS, 0)
  const sum = (k: 'requests' | 'inferences' | 'non2xx' | 'timeouts' | 'connection' | 'sent' | 'lateSends', ws = windows) => ws.reduce((s, w) => s + w[k], 0)
  const server = breakdown(before, after)
  const serverCpuCores =
    server?.cpuCores ?? (serverCpu0 !== undefined && serverCpu1 !== undefined && measuredS > 0 ? (serverCpu1 - serverCpu0) / measuredS : undefined)
  const otherCpuCores =
    machine0 !== undefined && machine1 !== undefined && serverCpuCores !== undefined && measuredS > 0
      ? Math.max(0, (machine1 - machine0) / measuredS - clientCpuCores - serverCpuCores)
      : undefined
  // Errors count over every measured window: a point with any error is flagged, whichever windows are summarised.
  const errors = {non2xx: sum('non2xx'), timeouts: sum('timeouts'), connection: sum('connection'), total: 0}
  errors.total = errors.non2xx + errors.timeouts + errors.connection
  return {
    windows,
    verdict,
    latency: summarize(mergeHistograms(usedHists)),
    throughput: dur > 0 ? sum('requests', used) / dur : 0,
    inferencesPerSec: dur > 0 ? sum('inferences', used) / dur : 0,
    errors,
    sent: sum('sent'),
    lateSends: sum('lateSends'),
    clientCpuCores,
    server,
    ...(replicasBefore && replicasAfter ? {replicas: replicasBefore.map((b, i) => breakdown(b, replicasAfter[i]))} : {}),
    serverCpuCores,
    otherCpuCores,
    failed: failed ?? (windows.length === 0 && o.signal?.aborted ? 'interrupted before the first window' : undefined),
    aborted: Boolean(o.signal?.aborted),
    measuredS,
    meanInflight: windows.length ? inflightSum / windows.length : 0,
  }
}
