/**
 * End to end through the CLI: `tfsopt bench --replicas 1,2 --lb …` starts real `tfsopt serve` replicas
 * behind a real nginx (and HAProxy), measures, and cleans everything up. The child gets its own TMPDIR
 * as a marker: afterwards no process may still carry it (replicas and balancer inherit the environment)
 * and no balancer temp dir may be left in it.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {findBinary, startCluster} from '../../src/bench/cluster-process.ts'
import {DEFAULT_MODEL} from '../../src/fixtures.ts'
import type {BenchRun} from '../../src/results/bench-run.ts'

const haveServe = existsSync(DEFAULT_MODEL)

/** Processes (other than exited ones) whose environment names `marker`: what the bench left running. */
function processesWith(marker: string): number[] {
  const pids: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      if (readFileSync(`/proc/${d}/environ`, 'latin1').includes(marker)) pids.push(Number(d))
    } catch {
      // gone, or another user's process
    }
  }
  return pids
}

function bench(args: string[]): {run: BenchRun; leftPids: number[]; leftDirs: string[]} {
  const tmp = mkdtempSync(join(tmpdir(), 'tfsopt-cluster-e2e-'))
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', 'bin/dev.js', 'bench', ...args], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {...process.env, TMPDIR: tmp},
    })
    assert.equal(r.status, 0, r.stderr)
    return {run: JSON.parse(r.stdout) as BenchRun, leftPids: processesWith(tmp), leftDirs: readdirSync(tmp).filter((d) => d.startsWith('tfsopt-'))} // tsx keeps its own cache here
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

// --max-batch-size 1: the cluster models serve one request at a time (a batching replica gets no prediction).
const short = ['--max-batch-size', '1', '--concurrency', '4', '--duration', '0.4', '--warmup', '0.3', '--windows', '2', '--max-windows', '2', '--json']

function checkClusterPoints(run: BenchRun, balancer: string): void {
  for (const p of run.points) {
    const c = p.cluster
    assert.ok(c, `${p.id}: cluster section`)
    assert.equal(c.balancer, balancer)
    assert.equal(c.perReplicaRequests.length, c.replicas)
    assert.equal(
      c.perReplicaRequests.reduce((a, b) => a + b, 0),
      c.replicaRequestsTotal,
    )
    for (const n of c.perReplicaRequests) assert.ok(n > 0, `${p.id}: every replica answered (its own /metrics): ${c.perReplicaRequests}`)
    // The replicas' count and the client's differ only by requests in flight at the windows' edges.
    assert.ok(Math.abs(c.replicaRequestsTotal - c.clientRequests) <= 4 * 2 * 4 + 0.05 * c.clientRequests, `${c.replicaRequestsTotal} vs ${c.clientRequests}`)
    assert.ok(c.imbalance !== null && c.imbalance >= 1, `imbalance ${c.imbalance}`)
    assert.equal(typeof c.addedLatencyMs, 'number')
    assert.equal(typeof c.addedLatencyAtLoadMs, 'number', 'the hop measured during the load too')
    assert.equal(c.regime, 'sleep-bound')
    assert.ok(c.prediction && c.prediction.predicted > 0 && c.prediction.metric === 'throughput', 'closed loop: the throughput bound')
  }
}

test('bench --replicas 1,2 --lb round-robin,least-conn behind a real nginx: counts, imbalance, prediction, clean-up', {
  skip: !haveServe ? 'the default model is missing' : findBinary('nginx') ? false : 'nginx is not installed (apt-get install nginx-light; .ci/run installs it)',
}, () => {
  const {run, leftPids, leftDirs} = bench(['--replicas', '1,2', '--lb', 'round-robin,least-conn', '--server-flags', '--inject-latency-ms 5', ...short])
  // replicas=1 runs one policy only (there is nothing to balance).
  assert.deepEqual(
    run.points.map((p) => [p.cluster?.replicas, p.cluster?.lb]),
    [
      [1, 'round-robin'],
      [2, 'round-robin'],
      [2, 'least-conn'],
    ],
  )
  checkClusterPoints(run, 'nginx')
  assert.ok(run.recommendation?.cluster, 'the recommendation names replicas and policy')
  assert.match(run.recommendation.cluster.nginxUpstream, /^upstream tfsopt \{/)
  assert.deepEqual(leftPids, [], 'no replica or nginx process left running')
  assert.deepEqual(leftDirs, [], 'the balancer temp dir was removed')
})

test('bench --balancer haproxy: one 2-replica least-conn point through a real HAProxy, cleaned up', {
  skip: !haveServe ? 'the default model is missing' : findBinary('haproxy') ? false : 'haproxy is not installed (apt-get install haproxy)',
}, () => {
  const {run, leftPids, leftDirs} = bench([
    '--replicas',
    '2',
    '--lb',
    'least-conn',
    '--balancer',
    'haproxy',
    '--server-flags',
    '--inject-latency-ms 5',
    ...short,
  ])
  assert.equal(run.points.length, 1)
  checkClusterPoints(run, 'haproxy')
  assert.equal(run.recommendation?.cluster?.balancer, 'haproxy')
  assert.deepEqual(leftPids, [], 'no replica or HAProxy process left running')
  assert.deepEqual(leftDirs, [], 'the balancer temp dir was removed')
})

for (const balancer of ['nginx', 'haproxy'] as const) {
  test(`${balancer}: the generated config names the replica that answered (X-Tfsopt-Upstream), round robin visits both`, {
    skip: !haveServe ? 'the default model is missing' : findBinary(balancer) ? false : `${balancer} is not installed`,
  }, async () => {
    const c = await startCluster({model: DEFAULT_MODEL, config: {workers: 1, maxBatchSize: 1}, replicas: 2, policy: 'round-robin', balancer})
    try {
      const named: string[] = []
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${c.url}/healthz`)
        await res.text()
        named.push(res.headers.get('x-tfsopt-upstream') ?? '(none)')
      }
      const hosts = c.replicas.map((r) => new URL(r.url).host).sort()
      assert.deepEqual([...new Set(named)].sort(), hosts, `answers named ${named.join(', ')}`)
      assert.ok(Number.isFinite(c.addedLatencyMs), `added latency at rest measured: ${c.addedLatencyMs}`)
    } finally {
      await c.stop()
    }
  })
}
