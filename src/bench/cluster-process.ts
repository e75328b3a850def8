/**
 * The built-in cluster target of `bench --replicas N --lb POLICY`: N `tfsopt serve` children on their
 * own ephemeral ports behind a real balancer (nginx, or HAProxy with --balancer haproxy) run in the
 * foreground as another child, with its generated config, pid and logs in a temp dir. Everything is
 * stopped by stop(), and killed on process exit (Ctrl-C, a failure) by the exit hook.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {TfsoptError} from '../errors.js'
import {type Balancer, type BalancerPolicy, haproxyConfig, nginxConfig} from './balancer-config.js'
import {startServeProcess, type ServerHandle} from './server-process.js'
import {getText, waitAvailable} from './target.js'
import type {ServerConfig} from '../results/bench-run.js'
import {median} from '../stats/quantile.js'

export interface ClusterHandle extends ServerHandle {
  replicas: ServerHandle[]
  balancer: Balancer
  policy: BalancerPolicy
  /** Median extra latency of one request through the balancer vs straight to a replica (ms), at concurrency 1. */
  addedLatencyMs?: number
  configText: string
}

const live = new Set<ChildProcess>()
let hooked = false
function killAllOnExit(): void {
  if (hooked) return
  hooked = true
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL')
  })
}

export function findBinary(name: Balancer): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    const p = join(dir, name)
    if (dir && existsSync(p)) return p
  }
  return undefined
}

/** A free TCP port on 127.0.0.1 (bound and released: the balancer binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}

/**
 * Per-replica server settings: the user's values win; otherwise the cores are split so N replicas do not
 * oversubscribe them (workers = max(1, cores/N), one intra-op thread each).
 */
export function replicaConfig(config: ServerConfig, replicas: number, cores = availableParallelism()): ServerConfig {
  if (replicas <= 1) return config
  return {...config, workers: config.workers ?? Math.max(1, Math.floor(cores / replicas)), intraOpThreads: config.intraOpThreads ?? 1}
}

export async function startCluster(opts: {
  model: string
  modelName?: string
  config: ServerConfig
  replicas: number
  policy: BalancerPolicy
  balancer: Balancer
}): Promise<ClusterHandle> {
  const bin = findBinary(opts.balancer)
  if (!bin)
    throw new TfsoptError(
      'E_UNAVAILABLE',
      `${opts.balancer} is not installed (needed for --replicas/--lb): install it with \`apt-get install ${opts.balancer}\` (Debian/Ubuntu), or point --url at your own balancer`,
    )
  killAllOnExit()
  const replicas: ServerHandle[] = []
  const dir = mkdtempSync(join(tmpdir(), `tfsopt-${opts.balancer}-`))
  let child: ChildProcess | undefined
  const stopAll = async (): Promise<number | null> => {
    if (child && child.exitCode === null) {
      const c = child
      const done = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      const t = setTimeout(() => c.kill('SIGKILL'), 5000)
      await done
      clearTimeout(t)
      live.delete(c)
    }
    const codes = await Promise.all(replicas.map((r) => r.stop()))
    rmSync(dir, {recursive: true, force: true})
    return codes.find((c) => c !== 0) ?? 0
  }
  try {
    const cfg = replicaConfig(opts.config, opts.replicas)
    for (let i = 0; i < opts.replicas; i++) replicas.push(await startServeProcess({model: opts.model, modelName: opts.modelName, config: cfg}))
    const backends = replicas.map((r) => new URL(r.url).host)
    const port = await freePort()
    let configText: string
    let args: string[]
    if (opts.balancer === 'nginx') {
      for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d))
      configText = nginxConfig({dir, port, policy: opts.policy, backends})
      writeFileSync(join(dir, 'nginx.conf'), configText)
      args = ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')]
    } else {
      configText = haproxyConfig({dir, port, policy: opts.policy, backends})
      writeFileSync(join(dir, 'haproxy.cfg'), configText)
      args = ['-db', '-f', join(dir, 'haproxy.cfg')]
    }
    const c = spawn(bin, args, {stdio: ['ignore', 'pipe', 'pipe']})
    child = c
    live.add(c)
    let errText = ''
    c.stdout!.on('data', (d: Buffer) => (errText = (errText + d.toString()).slice(-2000)))
    c.stderr!.on('data', (d: Buffer) => (errText = (errText + d.toString()).slice(-2000)))
    c.once('exit', () => live.delete(c))
    const url = `http://127.0.0.1:${port}`
    const name = opts.modelName ?? (replicas[0]!.ready.models?.[0]?.name as string | undefined) ?? ''
    try {
      await waitAvailable(url, name, 15_000, () => c.exitCode === null)
    } catch (err) {
      throw new TfsoptError(
        'E_UNAVAILABLE',
        `${opts.balancer} did not come up on ${url}: ${errText.trim().split('\n').slice(-4).join(' ') || (err as Error).message}`,
      )
    }
    const addedLatencyMs = await addedLatency(
      url,
      replicas.map((r) => r.url),
    )
    return {
      url,
      pid: c.pid!,
      ready: {...replicas[0]!.ready, url},
      alive: () => c.exitCode === null && replicas.every((r) => r.alive()),
      stderrTail: () => [errText.trim(), ...replicas.map((r) => r.stderrTail())].filter(Boolean).join('\n'),
      stop: stopAll,
      replicas,
      balancer: opts.balancer,
      policy: opts.policy,
      addedLatencyMs,
      configText,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** /healthz is counted under no model: the probes leave the replicas' request counts and latency histograms alone. */
const HOP_PATH = '/healthz'

/** One GET through the balancer, then one straight to `replicaUrl`: their times appended to `via` and `direct`. */
async function timedPair(balancerUrl: string, replicaUrl: string, path: string, via: number[], direct: number[]): Promise<void> {
  let t0 = performance.now()
  await getText(balancerUrl + path)
  via.push(performance.now() - t0)
  t0 = performance.now()
  await getText(replicaUrl + path)
  direct.push(performance.now() - t0)
}

/** Any replica, uniformly: see addedLatency for why not a fixed rotation. */
function anyReplica(replicaUrls: readonly string[]): string {
  return replicaUrls[Math.floor(Math.random() * replicaUrls.length)]!
}

/**
 * The balancer's own cost at rest: 200 pairs of GET /healthz (no model, no inference, so only the hop
 * differs; the same path the at-load probe uses), one at a time on kept-alive connections; median(via) −
 * median(direct). Each direct GET goes to a replica drawn at random. Waking a thread that has slept costs
 * this VM more than the hop itself, so the two paths must find their replicas idle for about as long.
 * Always asking replica 0 charged every other replica's wake-up to the balancer; a fixed rotation
 * (replica i mod N) is fair only as far as it happens to line up with the balancer's own: with 4
 * replicas the figure ran from −0.04 ms (direct to the replica round-robin asks next) to +0.25 ms (direct
 * to the one it has just woken) (benchmarks/hop-pairing.ts, docs/BENCHMARKS.md). A random draw lines up
 * with no policy; against a rotation it errs, if at all, against the balancer (1 direct GET in N finds
 * the replica the balancer has just woken).
 */
export async function addedLatency(balancerUrl: string, replicaUrls: readonly string[], n = 200): Promise<number | undefined> {
  const path = HOP_PATH
  const via: number[] = []
  const direct: number[] = []
  try {
    // Warm both paths first (a fresh nginx worker, cold code paths in the replicas): the first pairs
    // after a start run slower than the rest.
    for (let i = 0; i < 150; i++) await timedPair(balancerUrl, anyReplica(replicaUrls), path, [], [])
    for (let i = 0; i < n; i++) await timedPair(balancerUrl, anyReplica(replicaUrls), path, via, direct)
  } catch {
    return undefined
  }
  return median(via) - median(direct)
}

/**
 * The same hop difference while the point's load runs: one pair of GET /healthz (balancer, then a
 * replica direct, drawn at random as in addedLatency) every `intervalMs`, so the probe adds about 2000/intervalMs requests/s to the load. stop()
 * ends it and gives median(via) − median(direct), or undefined with fewer than 10 pairs.
 */
export function addedLatencyProbe(balancerUrl: string, replicaUrls: readonly string[], intervalMs = 25): {stop(): Promise<number | undefined>} {
  const path = HOP_PATH
  const via: number[] = []
  const direct: number[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const t = performance.now()
      try {
        await timedPair(balancerUrl, anyReplica(replicaUrls), path, via, direct)
      } catch {
        return // the server went away: what was measured stands
      }
      const wait = intervalMs - (performance.now() - t)
      if (wait > 0 && running) await new Promise((r) => setTimeout(r, wait))
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      const n = Math.min(via.length, direct.length)
      return n >= 10 ? median(via.slice(0, n)) - median(direct.slice(0, n)) : undefined
    },
  }
}
