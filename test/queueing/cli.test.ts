import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

// Runs the compiled CLI (`npm run build` first; `npm test` does). Skipped when dist is missing.
const built = existsSync('dist/commands/queue/mmc.js')
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/run.js', 'queue', ...args], {encoding: 'utf8'})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

test('queue mmc --json: reference values, ms units, exit 0', {skip: !built && 'run npm run build first'}, () => {
  const r = run('mmc', '--servers', '2', '--arrival-rate', '150', '--service-time', '10', '--percentiles', '50,99', '--service-cv', '0', '--json')
  assert.equal(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.ok(Math.abs(j.probWait - 0.64285714) < 1e-7)
  assert.ok(Math.abs(j.wMs - 22.857143) < 1e-5)
  assert.ok(Math.abs(j.responsePercentilesMs.p99 - 97.095034) < 1e-5)
  assert.ok(j.variants.mdc.wMs < j.wMs)
})

test('queue mmc: ρ ≥ 1 exits 2 with and without --json', {skip: !built && 'run npm run build first'}, () => {
  const plain = run('mmc', '--servers', '2', '--arrival-rate', '250', '--service-time', '10')
  assert.equal(plain.code, 2)
  assert.match(plain.stderr, /E_USAGE.*unstable/)
  const json = run('mmc', '--servers', '2', '--arrival-rate', '250', '--service-time', '10', '--json')
  assert.equal(json.code, 2)
  assert.equal(JSON.parse(json.stdout).error.code, 'E_USAGE')
})

test('queue usl: fits a CSV, refuses too few points and unreadable files (exit 2)', {skip: !built && 'run npm run build first'}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-usl-'))
  const csv = join(dir, 'p.csv')
  writeFileSync(csv, `concurrency,throughput\n${[1, 2, 4, 8, 16, 32].map((n) => `${n},${(100 * n) / (1 + 0.05 * (n - 1) + 0.001 * n * (n - 1))}`).join('\n')}`)
  const ok = run('usl', '--data', csv, '--json')
  assert.equal(ok.code, 0, ok.stderr)
  const j = JSON.parse(ok.stdout)
  assert.ok(Math.abs(j.fit.sigma - 0.05) < 1e-5 && Math.abs(j.fit.kappa - 0.001) < 1e-6)
  assert.ok(Array.isArray(j.curve) && j.curve.length >= 32)
  writeFileSync(csv, '1,100\n2,190\n3,270\n')
  const few = run('usl', '--data', csv)
  assert.equal(few.code, 2)
  assert.match(few.stderr, /at least 6/)
  assert.equal(run('usl', '--data', join(dir, 'missing.csv')).code, 2)
})

test('queue batch and queue cache --json shapes', {skip: !built && 'run npm run build first'}, () => {
  const b = run('batch', '--alpha', '5', '--beta', '1', '--max-batch-size', '32', '--arrival-rate', '500', '--json')
  assert.equal(b.code, 0, b.stderr)
  const bj = JSON.parse(b.stdout)
  assert.ok(Math.abs(bj.meanLatencyMs - 15) < 1e-9)
  assert.ok(Math.abs(bj.capacityPerS - 32 / 0.037) < 1e-6)
  const c = run('cache', '--hit-ratio', '0.8', '--hit-time', '0.2', '--miss-time', '12', '--json')
  assert.equal(c.code, 0, c.stderr)
  const cj = JSON.parse(c.stdout)
  assert.ok(Math.abs(cj.effectiveLatencyMs - 2.56) < 1e-12)
  assert.match(cj.article.label, /article/)
  assert.equal(run('cache', '--hit-ratio', '1.5', '--hit-time', '1', '--miss-time', '2').code, 2)
})

test('queue forecast: what-if from a saved run’s station calibration, worked by hand', {skip: !built && 'run npm run build first'}, () => {
  // Main thread D = 1 ms, worker t(1) = 2 ms, no generator, delay or gap: MVA at N = 2 gives X = 3/7 per ms
  // (428.57/s) and latency 14/3 ms; N = 1 gives 3 ms. The one measured point has p99/mean = 3.
  const key = '["m",{"maxBatchSize":1},1,0]'
  const runJson = {
    schema: 'tfsopt-bench/2',
    tfsoptVersion: 'test',
    startedAt: '2026-12-07T00:00:00Z',
    model: {name: 'm'},
    target: {url: 'http://127.0.0.1:1', builtIn: true},
    machine: {cpuModel: 'x', cores: 2, memoryBytes: 1, node: 'v20', platform: 'linux', arch: 'x64', hostname: 'h'},
    settings: {},
    points: [
      {
        id: 'model=m,maxBatch=1,c=2,batch=1,repeat=0',
        group: key,
        config: {server: {maxBatchSize: 1}, client: {mode: 'closed', concurrency: 2, clientBatch: 1, repeatRatio: 0}},
        stable: true,
        windows: [{index: 0, durationS: 1, requests: 1, inferences: 1, throughput: 428, meanMs: 4.6, p50Ms: 4, p90Ms: 9, p99Ms: 12, errors: 0}],
        throughput: 428,
        inferencesPerSec: 428,
        latency: {meanMs: 4, stdevMs: 1, minMs: 1, maxMs: 20, p50Ms: 4, p90Ms: 9, p95Ms: 10, p99Ms: 12, p999Ms: 15},
        errors: {non2xx: 0, timeouts: 0, connection: 0, total: 0},
      },
    ],
    fits: [
      {
        serverKey: key,
        workers: 1,
        station: {
          calibrationIds: ['x'],
          workers: 1,
          maxBatchSize: 1,
          batchTimeoutMs: 0,
          generatorMs: 0,
          mainMs: 1,
          mainPerBatchMs: 0,
          alphaMs: 0,
          betaMs: 2,
          delayMs: 0,
          gapMs: 0,
          wakeMs: 0,
        },
      },
    ],
  }
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-forecast-'))
  const file = join(dir, 'run.json')
  writeFileSync(file, JSON.stringify(runJson))
  const r = run('forecast', file, '--concurrency', '1,2', '--max-mean-ms', '4.7', '--json')
  assert.equal(r.code, 0, r.stderr)
  const [s] = JSON.parse(r.stdout).settings
  assert.ok(Math.abs(s.rows[0].meanMs - 3) < 1e-9 && Math.abs(s.rows[0].throughput - 1000 / 3) < 1e-6)
  assert.ok(Math.abs(s.rows[1].meanMs - 14 / 3) < 1e-9 && Math.abs(s.rows[1].throughput - 3000 / 7) < 1e-6)
  assert.ok(Math.abs(s.rows[1].p99Ms - 14) < 1e-9, 'p99 = mean × 3 measured at c=2')
  // 14/3 ms ≤ 4.7 at N = 2; N = 3 is above (MVA: R_m = 1 + Q_m(2), …).
  assert.match(s.answers[0], /up to 2 connections stay within mean ≤ 4.7 ms/)
  // A run without a station calibration is a usage error saying what to do.
  writeFileSync(file, JSON.stringify({...runJson, fits: []}))
  const bad = run('forecast', file, '--concurrency', '4')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /no station-model calibration/)
})

test('queue lb --json: every policy, hand-worked random split and round robin, capacity vs the articles', {skip: !built && 'run npm run build first'}, () => {
  const r = run('lb', '--replicas', '2', '--arrival-rate', '50', '--service-time', '20', '--json')
  assert.equal(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  assert.equal(j.utilisation, 0.5)
  const by = Object.fromEntries(j.policies.map((p: {policy: string}) => [p.policy, p]))
  assert.deepEqual(Object.keys(by).sort(), ['central', 'least-conn', 'random', 'random-two', 'round-robin'])
  assert.ok(Math.abs(by.random.wMs - 40) < 1e-6) // M/M/1 at 25/s, S = 20 ms: W = S/(1−ρ)
  assert.ok(Math.abs(by['round-robin'].wMs - 20 * ((1 + Math.sqrt(5)) / 2)) < 1e-6) // E_2/M/1 at ρ = 0.5
  assert.equal(j.article.correctCapacityPerS, 100)
  assert.equal(j.article.articleCapacityPerS, 25)
  const bad = run('lb', '--replicas', '2', '--arrival-rate', '50', '--service-time', '20', '--policy', 'sticky')
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /unknown load-balancing policy/)
})
