// Bench features end to end through the compiled CLI (bin/run.js → dist/; `npm test` builds first) with
// the real `tfsopt serve` and the bundled models: --repeat with --compare-model (interleaving, stable ids),
// Ctrl-C, a server killed mid-sweep (with and without --fail-fast), and --url with server-side settings.
// Short windows keep each test to a few seconds; no timing is asserted beyond generous bounds.
import {test, before} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'tfsopt-bench-features-'))
const f = (name: string) => join(dir, name)
const BIN = join(root, 'bin', 'run.js')
const CNN = join(root, 'fixtures', 'models', 'mnist-cnn.onnx')
const SHORT = ['--duration', '0.3', '--warmup', '0.2', '--windows', '2', '--max-windows', '2']
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'))

function tfsopt(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', timeout, cwd: root})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** Starts the CLI in the background; `waitFor(re)` resolves with the first stderr match. */
function background(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], {cwd: root, stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  let stdout = ''
  const waiters: Array<{re: RegExp; resolve: (m: RegExpMatchArray) => void}> = []
  const check = () => {
    for (const w of [...waiters]) {
      const m = (stderr + stdout).match(w.re)
      if (m) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(m)
      }
    }
  }
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
    check()
  })
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
    check()
  })
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))
  const waitFor = (re: RegExp, ms = 60_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stderr:\n${stderr}`)), ms)
      waiters.push({
        re,
        resolve: (m) => {
          clearTimeout(t)
          resolve(m)
        },
      })
      check()
      void exited.then(() => setTimeout(() => reject(new Error(`exited before ${re}; stderr:\n${stderr}`)), 100))
    })
  const done = async (ms = 60_000) => {
    const t = setTimeout(() => child.kill('SIGKILL'), ms)
    const r = await exited
    clearTimeout(t)
    return {...r, stderr, stdout}
  }
  return {child, waitFor, done, stderr: () => stderr}
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

before(() => {
  assert.ok(existsSync(join(root, 'dist', 'commands', 'bench.js')), 'dist/commands/bench.js is missing: run `npm run build` first')
})

test("--repeat 2 with --compare-model: A/B/A/B servers, one point per configuration with both repeats' windows", () => {
  const r = tfsopt(['bench', '--compare-model', CNN, '--repeat', '2', '--concurrency', '1,2', ...SHORT, '--out', f('ab.json')])
  assert.equal(r.code, 0, r.stderr)
  // Non-TTY progress prints each server start: the models alternate, repeat loop outermost.
  const starts = [...r.stderr.matchAll(/^server ready: (\S+) /gm)].map((m) => m[1])
  assert.deepEqual(starts, ['mnist', 'mnist-cnn', 'mnist', 'mnist-cnn'])
  const run = json(f('ab.json'))
  assert.equal(run.settings.repeat, 2)
  assert.ok(run.settings.compareModel.endsWith('mnist-cnn.onnx'))
  // Ids are stable across repeats: 2 models × 2 loads = 4 points, not 8.
  assert.deepEqual(run.points.map((p: {id: string}) => p.id).sort(), [
    'model=mnist,c=1,batch=1,repeat=0',
    'model=mnist,c=2,batch=1,repeat=0',
    'model=mnist-cnn,c=1,batch=1,repeat=0',
    'model=mnist-cnn,c=2,batch=1,repeat=0',
  ])
  for (const p of run.points) {
    assert.ok(!p.failed, `${p.id}: ${p.failed}`)
    assert.equal(p.repeats.length, 2, p.id)
    // --windows 2 --max-windows 2: exactly 2 windows per repeat, re-indexed 0..3 across repeats.
    assert.deepEqual(
      p.windows.map((w: {index: number}) => w.index),
      [0, 1, 2, 3],
      p.id,
    )
    assert.ok(p.throughput > 0)
  }
  // Both models have their own lone-client calibration for the queueing models.
  assert.equal(run.fits.length, 2)
})

test('Ctrl-C: SIGINT writes the points measured so far to --out and exits 130', async () => {
  const b = background(['bench', '--concurrency', '1,2,4,8,16', ...SHORT, '--out', f('int.json')])
  await b.waitFor(/^point 1\/5 /m)
  b.child.kill('SIGINT')
  const r = await b.done()
  assert.equal(r.code, 130, r.stderr)
  assert.match(r.stderr, /interrupted: writing the points measured so far/)
  const run = json(f('int.json'))
  assert.equal(run.interrupted, true)
  assert.ok(run.points.length >= 1 && run.points.length < 5, `${run.points.length} points`)
  assert.ok(!run.points[0].failed, run.points[0].failed)
  assert.ok(run.points[0].windows.length >= 2)
})

test('a server killed mid-point: that point is marked failed, the server restarted, the sweep goes on', async () => {
  // A long warm-up on the first point leaves time to kill the server while it is being measured.
  const b = background([
    'bench',
    '--concurrency',
    '1,2',
    '--duration',
    '0.3',
    '--warmup',
    '1.5',
    '--windows',
    '2',
    '--max-windows',
    '2',
    '--out',
    f('kill.json'),
  ])
  const m = await b.waitFor(/^server ready: .* \(pid (\d+)\)$/m)
  const pid = Number(m[1])
  await b.waitFor(/^measuring model=mnist,c=1,/m) // probe done, warm-up of the first point under way
  await new Promise((r) => setTimeout(r, 300))
  process.kill(pid, 'SIGKILL')
  const r = await b.done()
  assert.equal(r.code, 0, r.stderr)
  const pids = [...r.stderr.matchAll(/^server ready: .* \(pid (\d+)\)$/gm)].map((x) => Number(x[1]))
  assert.equal(pids.length, 2, 'restarted once')
  assert.notEqual(pids[1], pid)
  assert.ok(!alive(pids[1]!), 'the restarted server was stopped at the end')
  const run = json(f('kill.json'))
  assert.equal(run.points.length, 2)
  assert.match(run.points[0].failed, /server exited|no successful responses/)
  assert.equal(run.points[0].flagged, true)
  assert.ok(!run.points[1].failed, run.points[1].failed)
  assert.ok(run.points[1].throughput > 0)
  assert.ok(
    run.warnings.some((w: string) => /died; restarting it/.test(w)),
    run.warnings.join('\n'),
  )
})

test("--fail-fast: the sweep stops at the killed server's point, the points so far are written, exit 1", async () => {
  const b = background([
    'bench',
    '--concurrency',
    '1,2',
    '--duration',
    '0.3',
    '--warmup',
    '1.5',
    '--windows',
    '2',
    '--max-windows',
    '2',
    '--fail-fast',
    '--out',
    f('ff.json'),
  ])
  const m = await b.waitFor(/^server ready: .* \(pid (\d+)\)$/m)
  await b.waitFor(/^measuring model=mnist,c=1,/m)
  await new Promise((r) => setTimeout(r, 300))
  process.kill(Number(m[1]), 'SIGKILL')
  const r = await b.done()
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /--fail-fast/)
  assert.equal([...r.stderr.matchAll(/^server ready:/gm)].length, 1, 'no restart after the failure')
  const run = json(f('ff.json'))
  assert.equal(run.points.length, 1)
  assert.ok(run.points[0].failed)
  assert.match(run.stoppedBy, /--fail-fast/)
})

test('--url against a running tfsopt serve: server-side settings are reported as not applicable', async (t) => {
  const serve = spawn(process.execPath, [BIN, 'serve', join(root, 'fixtures', 'models', 'mnist-mlp.onnx'), '--json', '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let serveExited = false
  serve.on('exit', () => (serveExited = true))
  t.after(() => {
    if (!serveExited) serve.kill('SIGTERM')
  })
  const ready = await readyLine(serve)
  const name = ready.models[0]!.name
  const r = tfsopt([
    'bench',
    '--url',
    ready.url,
    '--model-name',
    name,
    '--concurrency',
    '1',
    '--max-batch-size',
    '1,8',
    '--cache-size',
    '100',
    '--server-flags',
    '--inject-latency-ms 50',
    ...SHORT,
    '--out',
    f('url.json'),
  ])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /server-side settings \(--max-batch-size, --cache-size, --server-flags\) cannot be applied to an external --url target/)
  const run = json(f('url.json'))
  assert.deepEqual(run.target, {url: ready.url, builtIn: false})
  assert.equal(run.points.length, 1, 'one point: the server lists were not swept')
  assert.deepEqual(run.points[0].config.server, {})
  // The injected 50 ms was not applied either: the MLP answers in about a millisecond at concurrency 1.
  assert.ok(run.points[0].latency.p50Ms < 50, `p50 ${run.points[0].latency.p50Ms} ms`)
  assert.ok(run.warnings.some((w: string) => /cannot be applied/.test(w)))
  assert.ok(!serveExited, 'bench does not stop an external server')
})

function readyLine(child: ChildProcess): Promise<{url: string; models: Array<{name: string}>}> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const t = setTimeout(() => reject(new Error('tfsopt serve did not report ready')), 60_000)
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString()
      for (const line of buf.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          const msg = JSON.parse(line)
          if (msg.event === 'ready') {
            clearTimeout(t)
            resolve(msg)
          }
        } catch {
          /* partial line */
        }
      }
    })
    child.on('exit', (code) => reject(new Error(`tfsopt serve exited with ${code}`)))
  })
}
