/**
 * `tfsopt bench --models` end to end: the CLI starts the real server with 6 copies of the MNIST MLP under
 * a memory budget for 2, sends a short Zipf load, and reports hit ratio, cold/steady p99 and Che's
 * prediction (--json and --markdown). Usage errors come before anything starts.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {DEFAULT_MODEL} from '../../src/fixtures.ts'
import type {ManyModelsRun} from '../../src/bench/many-models.ts'

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', 'bin/dev.js', 'bench', ...args], {encoding: 'utf8', timeout: 120_000})
const skip = existsSync(DEFAULT_MODEL) ? false : 'the default model is missing'

test('--models 6 --fit 2: hit ratio in [0, 1], counts add up, cold starts seen, Che beside it', {skip}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfsopt-many-e2e-'))
  try {
    const md = join(dir, 'r.md')
    const r = cli([
      '--models',
      '6',
      '--fit',
      '2',
      '--popularity',
      'zipf',
      '--zipf-s',
      '1',
      '--duration',
      '3',
      '--concurrency',
      '1,2',
      '--markdown',
      md,
      '--json',
    ])
    assert.equal(r.status, 0, r.stderr)
    const run = JSON.parse(r.stdout) as ManyModelsRun
    assert.equal(run.models.length, 6)
    assert.equal(run.fit, 2)
    assert.ok(run.oneModelBytes! > 0 && run.budgetBytes! > 2 * run.oneModelBytes! && run.budgetBytes! < 3 * run.oneModelBytes!)
    assert.equal(run.points.length, 2)
    for (const p of run.points) {
      assert.ok(p.requests > 0)
      assert.equal(p.hits + p.coldStarts + p.failed, p.requests)
      assert.equal(p.failed, 0)
      assert.ok(p.hitRatio >= 0 && p.hitRatio <= 1, `hit ratio ${p.hitRatio}`)
      // Che's approximation for LRU, Zipf(1) over 6 with capacity 2: strictly between 2/6 and 1.
      assert.ok(p.cheHitRatio > 1 / 3 && p.cheHitRatio < 1, `Che ${p.cheHitRatio}`)
    }
    // The measured server starts with nothing loaded: its first request at least was a cold start.
    assert.ok(run.points[0]!.coldStarts > 0 && Number.isFinite(run.points[0]!.coldP99Ms))
    const text = readFileSync(md, 'utf8')
    assert.match(text, /Che hit ratio/)
    assert.match(text, /6 models, Zipf s = 1 popularity, a budget for 2/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('--models with --url needs --model-names (N of them) and --fit', () => {
  const a = cli(['--models', '3', '--url', 'http://127.0.0.1:9', '--model-names', 'a,b'])
  assert.notEqual(a.status, 0)
  assert.match(a.stderr, /needs --model-names listing 3 names \(got 2\)/)
  const b = cli(['--models', '2', '--url', 'http://127.0.0.1:9', '--model-names', 'a,b'])
  assert.notEqual(b.status, 0)
  assert.match(b.stderr, /needs --fit/)
  const c = cli(['--models', '2', '--fit', '2'])
  assert.notEqual(c.status, 0)
  assert.match(c.stderr, /must exceed --fit 2/)
})
