import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync, readdirSync, readFileSync, mkdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadRun, saveBaseline, validateRun} from '../../src/gate/baseline.ts'
import {compareRuns} from '../../src/gate/compare.ts'
import type {Metric} from '../../src/gate/metrics.ts'
import {makeRun} from './synthetic.ts'

const dir = mkdtempSync(join(tmpdir(), 'tfsopt-baseline-'))
test.after(() => rmSync(dir, {recursive: true, force: true}))

test('saveBaseline writes atomically (no temp file left) and loadRun reads it back', () => {
  const run = makeRun([{}], 1)
  const file = join(dir, 'sub', 'baseline.json')
  saveBaseline(run, file)
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['baseline.json'])
  const back = loadRun(file)
  assert.deepEqual(back.points, run.points)
  assert.equal(back.tfsoptVersion, '0.1.0')
  assert.equal(back.model.sha256, run.model.sha256)
  assert.deepEqual(back.machine, run.machine)
  assert.deepEqual(back.settings, run.settings)
  assert.match(String(back.baselineSavedAt), /^\d{4}-\d\d-\d\dT/)
  // Overwriting replaces the whole file.
  saveBaseline(makeRun([{id: 'other'}], 2), file)
  assert.equal(loadRun(file).points[0]!.id, 'other')
})

test('a run without a machine description gets this machine', () => {
  const run = makeRun([{}], 1) as unknown as Record<string, unknown>
  delete run.machine
  const file = join(dir, 'nomachine.json')
  saveBaseline(run as never, file)
  assert.ok(loadRun(file).machine.cores >= 1)
})

test('loadRun: missing, directory, corrupt and wrong files are E_USAGE errors that say what is wrong', () => {
  assert.throws(() => loadRun(join(dir, 'nope.json')), {code: 'E_USAGE', exit: 2, message: /file not found/})
  mkdirSync(join(dir, 'adir'))
  assert.throws(() => loadRun(join(dir, 'adir')), {code: 'E_USAGE', message: /directory/})
  const corrupt = join(dir, 'corrupt.json')
  writeFileSync(corrupt, JSON.stringify(makeRun([{}], 1)).slice(0, 200))
  assert.throws(() => loadRun(corrupt), {code: 'E_USAGE', message: /not valid JSON/})
  const wrong = join(dir, 'wrong.json')
  writeFileSync(wrong, JSON.stringify({schema: 'other/2', points: []}))
  assert.throws(() => loadRun(wrong), {code: 'E_USAGE', message: /schema "other\/2", expected "tfsopt-bench\/1"/})
  writeFileSync(wrong, '[1, 2]')
  assert.throws(() => loadRun(wrong), {code: 'E_USAGE', message: /not a tfsopt bench result/})
})

test('validateRun rejects points without windows or with non-numeric samples', () => {
  const run = makeRun([{}], 1)
  const noWindows = JSON.parse(JSON.stringify(run))
  delete noWindows.points[0].windows
  assert.throws(() => validateRun(noWindows, 'f'), {code: 'E_USAGE', message: /no "windows" array/})
  const badSample = JSON.parse(JSON.stringify(run))
  badSample.points[0].windows[2].p99Ms = 'fast'
  assert.throws(() => validateRun(badSample, 'f'), {code: 'E_USAGE', message: /windows\[2\]\.p99Ms/})
  const noId = JSON.parse(JSON.stringify(run))
  delete noId.points[0].id
  assert.throws(() => validateRun(noId, 'f'), {message: /has no "id"/})
  assert.ok(readFileSync !== undefined)
})

test('a tfsopt-bench/1 file (written before prediction kinds and group keys) still loads and compares against a /2 run', () => {
  const v1 = makeRun([{}], 11, {schema: 'tfsopt-bench/1'})
  const file = join(dir, 'v1.json')
  writeFileSync(file, JSON.stringify(v1))
  const base = loadRun(file)
  assert.equal(base.schema, 'tfsopt-bench/1')
  const opts = {metrics: ['throughput', 'p99'] as Metric[], maxRegression: 0.05, alpha: 0.05, resamples: 500}
  assert.equal(makeRun([{}], 12).schema, 'tfsopt-bench/2')
  assert.equal(compareRuns(base, makeRun([{}], 12), opts).verdict, 'ok')
  assert.equal(compareRuns(base, makeRun([{throughput: 700}], 12), opts).verdict, 'regression')
})
