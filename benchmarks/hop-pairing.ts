/**
 * Why the bench's added-latency probe (src/bench/cluster-process.ts, addedLatency) sends each direct GET
 * to a replica drawn at random (not a timed test). On one nginx over N MNIST replicas, at rest, it
 * measures median(via nginx) − median(direct) for GET /healthz with the direct GET paired with nginx's
 * choice (read from the X-Tfsopt-Upstream header the generated config adds) in every fixed way:
 *   offset k: straight to replica (chosen + k) mod N, k = 0 … N−1 (k = 0 asks the replica nginx has just
 *             woken; k = 1 wakes the one round-robin asks next)
 *   i mod N:  the rotation the probe used before (its alignment with nginx's is whatever it happens to be)
 *   random:   a replica drawn uniformly (what the probe does now)
 * and prints each pairing's figure with the median idle time (ms) of the replica each path found.
 * Usage: node --import tsx benchmarks/hop-pairing.ts [--replicas 4] [--policy round-robin]
 *        [--balancer nginx] [--pairs 300] [--rounds 2]
 */
import {loadavg} from 'node:os'
import type {Balancer, BalancerPolicy} from '../src/bench/balancer-config.js'
import {startCluster} from '../src/bench/cluster-process.js'
import {arg, median} from './support.js'

const N = Number(arg('replicas', '4'))
const POLICY = arg('policy', 'round-robin') as BalancerPolicy
const BALANCER = arg('balancer', 'nginx') as Balancer
const PAIRS = Number(arg('pairs', '300'))
const ROUNDS = Number(arg('rounds', '2'))
const WARMUP = 50

const cluster = await startCluster({
  model: new URL('../fixtures/models/mnist-mlp.onnx', import.meta.url).pathname,
  config: {workers: 1, maxBatchSize: 1},
  replicas: N,
  policy: POLICY,
  balancer: BALANCER,
})
const urls = cluster.replicas.map((r) => r.url)
const indexOf = new Map(urls.map((u, i) => [new URL(u).host, i]))
/** When our last GET to each replica ended: the idle time the next GET finds. */
const lastDone = urls.map(() => performance.now())

async function timedGet(url: string): Promise<{ms: number; chosen: number | undefined; start: number}> {
  const start = performance.now()
  const res = await fetch(`${url}/healthz`)
  await res.text()
  return {ms: performance.now() - start, chosen: indexOf.get(res.headers.get('x-tfsopt-upstream') ?? ''), start}
}

const pairings: Array<[string, (chosen: number, i: number) => number]> = [
  ...Array.from({length: N}, (_, k) => [`offset ${k}`, (chosen: number) => (chosen + k) % N] as [string, (c: number, i: number) => number]),
  ['i mod N', (_c, i) => i % N],
  ['random', () => Math.floor(Math.random() * N)],
]

console.log(
  `load average before: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
console.log(`${BALANCER} ${POLICY} over ${N} replica(s), ${PAIRS} pairs per figure (after ${WARMUP} warm-up pairs)`)
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, pick] of pairings) {
      const via: number[] = []
      const direct: number[] = []
      const idleVia: number[] = []
      const idleDirect: number[] = []
      for (let i = 0; i < WARMUP + PAIRS; i++) {
        const a = await timedGet(cluster.url)
        if (a.chosen === undefined) throw new Error(`${BALANCER} did not name the replica (X-Tfsopt-Upstream)`)
        const aIdle = a.start - lastDone[a.chosen]!
        lastDone[a.chosen] = performance.now()
        const d = pick(a.chosen, i)
        const bIdle = performance.now() - lastDone[d]!
        const b = await timedGet(urls[d]!)
        lastDone[d] = performance.now()
        if (i < WARMUP) continue
        via.push(a.ms)
        direct.push(b.ms)
        idleVia.push(aIdle)
        idleDirect.push(bIdle)
      }
      console.log(
        `  round ${round} ${name.padEnd(8)}: added ${(median(via) - median(direct)).toFixed(3)} ms ` +
          `(via ${median(via).toFixed(3)}, direct ${median(direct).toFixed(3)}; replica idle via ${median(idleVia).toFixed(2)} ms, direct ${median(idleDirect).toFixed(2)} ms)`,
      )
    }
  }
} finally {
  await cluster.stop()
}
console.log(
  `load average after: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
