/**
 * End to end through the CLI: window flags given in the `--flag=value` form are honoured under --sweep
 * and with the gate (they used to be replaced by the sweep's and the gate's defaults, because the
 * command looked for the literal "--duration" in argv). Measured from the windows in the --json output.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DEFAULT_MODEL} from '../../src/fixtures.ts'

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', 'bin/dev.js', 'bench', ...args], {encoding: 'utf8', timeout: 120_000})
const skip = existsSync(DEFAULT_MODEL) ? false : 'the default model is missing'
const ONE_POINT = ['--concurrency', '1', '--max-batch-size', '1', '--warmup=0', '--json']

interface Window {
  durationS: number
}
const runOf = (args: string[]) => {
  const r = cli(args)
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout) as {settings: Record<string, unknown>; points: Array<{windows: Window[]; stable: boolean}>}
}

test('--sweep --duration=2 measures 2-second windows', {skip}, () => {
  const run = runOf(['--sweep', ...ONE_POINT, '--duration=2', '--windows=1', '--max-windows=1'])
  assert.equal(run.settings.windowS, 2)
  assert.equal(run.points.length, 1)
  const w = run.points[0]!.windows
  assert.equal(w.length, 1)
  assert.ok(w[0]!.durationS > 1.8 && w[0]!.durationS < 3.5, `window lasted ${w[0]!.durationS} s`)
})

test('--sweep --windows=5 --max-windows=8: an unstable point measures 8 windows, not the sweep default', {skip}, () => {
  // A stability threshold no real point meets, so the point runs to the trial limit.
  const run = runOf(['--sweep', ...ONE_POINT, '--duration=0.25', '--windows=5', '--max-windows=8', '--stability=0.000001'])
  assert.equal(run.settings.windows, 5)
  assert.equal(run.settings.maxWindows, 8)
  assert.equal(run.settings.windowS, 0.25)
  assert.equal(run.points[0]!.stable, false)
  assert.equal(run.points[0]!.windows.length, 8)
})

test('--save-baseline with --windows=3 --max-windows=3 --repeat=2 keeps 3 windows per repeat (6 are enough for the gate)', {skip}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-flags-'))
  try {
    const run = runOf([...ONE_POINT, '--duration=0.25', '--windows=3', '--max-windows=3', '--repeat=2', '--save-baseline', join(dir, 'base.json')])
    assert.equal(run.settings.windows, 3)
    assert.equal(run.points[0]!.windows.length, 6)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a bad list or number names the flag and exits 2', () => {
  for (const [args, message] of [
    [['--concurrency=1,x'], /--concurrency: "1,x" is not a list of numbers/],
    [['--concurrency', '1', '--duration=-1'], /--duration must be positive/],
    [['--concurrency', '1', '--windows=2.5'], /--windows must be a whole number/],
  ] as const) {
    const r = cli([...args])
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, message)
    assert.doesNotMatch(r.stderr, /Parsing --/)
  }
})
