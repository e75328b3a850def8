/**
 * End to end through the CLI: `tfsopt bench` starts the real `tfsopt serve` child on a free port, sweeps a
 * tiny grid (2 server settings × 2 concurrencies, short windows) and writes every output format.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, existsSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DEFAULT_MODEL} from '../../src/fixtures.ts'

const cli = (args: string[], timeout = 150_000) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', 'bin/dev.js', 'bench', ...args], {encoding: 'utf8', timeout})
const haveServe = existsSync('src/commands/serve.ts') && existsSync(DEFAULT_MODEL)

test('a real sweep against the built-in server writes JSON, CSV, Markdown and HTML', {
  skip: haveServe ? false : 'tfsopt serve or the default model is missing',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-bench-'))
  const out = join(dir, 'run.json')
  const r = cli([
    '--concurrency',
    '1,4',
    '--max-batch-size',
    '1,8',
    '--duration',
    '0.4',
    '--warmup',
    '0.3',
    '--max-windows',
    '3',
    '--slo-p99',
    '5000',
    '--json',
    '--out',
    out,
    '--csv',
    join(dir, 'r.csv'),
    '--markdown',
    join(dir, 'r.md'),
    '--html',
    join(dir, 'r.html'),
  ])
  assert.equal(r.status, 0, r.stderr)
  const run = JSON.parse(r.stdout)
  assert.equal(run.schema, 'tfsopt-bench/2')
  assert.deepEqual(
    JSON.parse(readFileSync(out, 'utf8')).points.map((p: {id: string}) => p.id),
    run.points.map((p: {id: string}) => p.id),
  )
  assert.equal(run.points.length, 4)
  for (const p of run.points) {
    assert.ok(!p.failed, p.failed)
    assert.ok(p.throughput > 0)
    assert.ok(p.windows.length >= 3)
    assert.ok(p.latency.p99Ms >= p.latency.p50Ms)
    assert.ok(p.server && typeof p.server.queueMs === 'number', 'server breakdown scraped from /metrics')
    assert.ok(Array.isArray(p.queueing) && p.queueing.length > 0, 'queueing rows')
  }
  assert.equal(run.target.builtIn, true)
  assert.ok(run.recommendation?.serveCommand.startsWith('tfsopt serve'))
  assert.match(run.recommendation.tfServing.batchingParametersTxt, /max_batch_size \{ value: \d+ \}/)
  assert.ok(run.pareto.length >= 1)
  const csv = readFileSync(join(dir, 'r.csv'), 'utf8').trim().split('\n')
  assert.equal(csv.length, 5)
  assert.match(csv[0]!, /^id,model,server,load/)
  assert.match(readFileSync(join(dir, 'r.md'), 'utf8'), /## Recommendation[\s\S]*max_batch_size/)
  const html = readFileSync(join(dir, 'r.html'), 'utf8')
  assert.match(html, /<svg[^>]*aria-label="Throughput vs concurrency"/)
  assert.match(html, /Throughput by configuration and load/) // 2-D sweep → heat map
  // Self-contained: no scripts, no external resources (the SVG xmlns is a name, not a fetch).
  assert.doesNotMatch(html, /<script|<link|(?:src|href)="https?:/)
})

test('an unreachable --url is a clear error with exit 1', () => {
  const r = cli(['--url', 'http://127.0.0.1:9', '--model-name', 'x', '--concurrency', '1', '--duration', '0.2', '--warmup', '0'], 60_000)
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /E_UNAVAILABLE|not AVAILABLE/)
})

test('bad flags are usage errors with exit 2', () => {
  const r = cli(['--concurrency', '0'], 60_000)
  assert.equal(r.status, 2, r.stderr)
  assert.match(r.stderr, /can not be less than 1/)
})

test('the station model calibrates on the declared points (lone client, next load, highest load) and forecasts the others', {
  skip: haveServe ? false : 'tfsopt serve or the default model is missing',
}, () => {
  const r = cli(['--concurrency', '1,2,4,8', '--max-batch-size', '1', '--duration', '0.4', '--warmup', '0.3', '--max-windows', '3', '--json'])
  assert.equal(r.status, 0, r.stderr)
  const run = JSON.parse(r.stdout)
  const fit = run.fits[0].station
  assert.deepEqual(
    fit.calibrationIds.map((id: string) => id.match(/c=\d+/)![0]),
    ['c=1', 'c=2', 'c=8'],
  )
  assert.ok(fit.mainMs > 0 && fit.betaMs > 0, `demands from the busy-time counters: ${JSON.stringify(fit)}`)
  assert.ok(fit.capacity > 0)
  for (const p of run.points) {
    const c = Number(p.id.match(/c=(\d+)/)![1])
    assert.equal(p.prediction.model, 'station model', p.id)
    assert.equal(p.prediction.calibration, c !== 4, p.id)
    assert.ok(p.prediction.meanMs > 0 && p.prediction.throughput > 0)
    const rows = p.queueing.filter((q: {kind: string}) => q.kind === 'station-model')
    assert.equal(rows.length, 2)
    assert.match(rows[0].note, c === 4 ? /^forecast/ : /^calibration point/)
    // Busy-time counters and the 95% intervals are recorded per point.
    assert.ok(p.server.mainBusyMsPerRequest > 0 && p.server.workerLoopMsPerRequest > 0)
    assert.ok(p.ci.throughput[0] <= p.throughput && p.throughput <= p.ci.throughput[1] + 1e-9)
  }
})
