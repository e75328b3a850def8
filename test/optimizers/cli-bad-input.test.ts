// The quantize/prune commands end to end (`node bin/run.js`, after `npm run build`): a good run with
// --json, and every bad-input case: clear message, exit 1 or 2, and no output left behind.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {tmp, writeNoWeightModel, MLP, MLP_TFJS, EVAL} from './helpers.js'

const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/run.js', ...args], {encoding: 'utf8'})
  return {code: r.status, out: r.stdout, err: r.stderr}
}
const dir = tmp()
const noTemps = () =>
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('tfsopt-tmp')),
    [],
  )

test('quantize --mode auto --json: the auto section, and latency not above float32 in its own figures', () => {
  const out = join(dir, 'auto.onnx')
  const r = run('quantize', MLP, '--out', out, '--mode', 'auto', '--latency-batches', '32', '--threads', '1', '--json')
  assert.equal(r.code, 0, r.err)
  const rep = JSON.parse(r.out)
  assert.equal(rep.mode, 'auto')
  assert.equal(rep.auto.chosen, 'dynamic', 'without data only dynamic is a candidate')
  for (const l of rep.measurement.latency) assert.ok(l.ratio <= 1, JSON.stringify(l))
  assert.deepEqual(rep.warnings, [])
  assert.ok(existsSync(out))
})

test('quantize --json prints the report on stdout and writes the model', () => {
  const out = join(dir, 'ok.onnx')
  const r = run('quantize', MLP, '--out', out, '--mode', 'dynamic', '--eval-data', EVAL, '--latency-batches', '1', '--json')
  assert.equal(r.code, 0, r.err)
  const rep = JSON.parse(r.out)
  assert.equal(rep.mode, 'dynamic')
  assert.ok(rep.size.ratio < 0.27)
  assert.ok(rep.measurement.fidelity.cosineSimilarity > 0.999)
  assert.ok(Array.isArray(rep.warnings), 'every report carries a warnings array')
  assert.ok(existsSync(out))
})

test('OUT equal to IN is refused (exit 2) and the input is untouched', () => {
  const src = join(dir, 'in.onnx')
  copyFileSync(MLP, src)
  const r = run('quantize', src, '--out', src)
  assert.equal(r.code, 2)
  assert.match(r.err, /refusing to overwrite/)
  const again = run('quantize', src, '--out', join(dir, 'ok.onnx'))
  assert.equal(again.code, 2, 'existing --out without --force')
  assert.match(again.err, /already exists/)
})

test('unsupported format and mode: exit 1 / 2 with a message', () => {
  const sm = join(dir, 'saved')
  mkdirSync(sm, {recursive: true})
  writeFileSync(join(sm, 'saved_model.pb'), '')
  const a = run('quantize', sm, '--out', join(dir, 'x.onnx'))
  assert.equal(a.code, 1)
  assert.match(a.err, /SavedModel/)
  const b = run('quantize', MLP_TFJS, '--out', join(dir, 'y'), '--mode', 'static')
  assert.equal(b.code, 2)
  assert.match(b.err, /does not apply to tfjs/)
  const b2 = run('quantize', MLP_TFJS, '--out', join(dir, 'y2'), '--strip-names')
  assert.equal(b2.code, 2)
  assert.match(b2.err, /--strip-names applies to ONNX/)
  assert.ok(!existsSync(join(dir, 'y2')))
  const c = run('prune', MLP_TFJS, '--out', join(dir, 'z'))
  assert.equal(c.code, 1)
  assert.match(c.err, /prune works on ONNX/)
})

test('a model with no quantisable weights: exit 1, nothing written', () => {
  const src = writeNoWeightModel(join(dir, 'relu.onnx'))
  const out = join(dir, 'relu-q.onnx')
  const r = run('quantize', src, '--out', out, '--mode', 'dynamic')
  assert.equal(r.code, 1)
  assert.match(r.err, /nothing in .* can be quantised/)
  assert.ok(!existsSync(out))
  const p = run('prune', src, '--out', out, '--json')
  assert.equal(p.code, 1)
  assert.equal(JSON.parse(p.out).error.code, 'E_UNSUPPORTED')
  assert.ok(!existsSync(out))
  noTemps()
})

test('calibration data that does not fit the model: exit 2, nothing written', () => {
  const bad = join(dir, 'bad.jsonl')
  writeFileSync(bad, '[1, 2, 3]\n[4, 5, 6]\n')
  const out = join(dir, 'bad-q.onnx')
  const r = run('quantize', MLP, '--out', out, '--mode', 'static', '--calibration-data', bad)
  assert.equal(r.code, 2)
  assert.match(r.err, /3 values per sample, the model expects shape \[784\]/)
  assert.ok(!existsSync(out))
  noTemps()
})

test('empty or missing data files: exit 2', () => {
  const empty = join(dir, 'empty.jsonl')
  writeFileSync(empty, '')
  const r = run('quantize', MLP, '--out', join(dir, 'e.onnx'), '--eval-data', empty)
  assert.equal(r.code, 2)
  assert.match(r.err, /is empty/)
  const m = run('prune', MLP, '--out', join(dir, 'e.onnx'), '--eval-data', join(dir, 'missing.json'))
  assert.equal(m.code, 2)
  assert.match(m.err, /data not found/)
  const l = run('quantize', MLP, '--out', join(dir, 'e.onnx'), '--max-accuracy-drop', '0.5')
  assert.equal(l.code, 2)
  assert.match(l.err, /needs --eval-data/)
  assert.ok(!existsSync(join(dir, 'e.onnx')))
})

test('accuracy-aware from the CLI: the table names the nodes kept in float32', () => {
  const out = join(dir, 'budget.onnx')
  const r = run(
    'quantize',
    MLP,
    '--out',
    out,
    '--mode',
    'static',
    '--calibration-data',
    EVAL,
    '--calibration-method',
    'percentile',
    '--percentile',
    '80',
    '--eval-data',
    EVAL,
    '--max-accuracy-drop',
    '0.5',
    '--latency-batches',
    '1',
  )
  assert.equal(r.code, 0, r.err)
  assert.match(r.err, /accuracy budget 0.5 points held with \d node\(s\) back in float32: /)
  assert.ok(existsSync(out))
})

test('accuracy budget not met within --max-trials: exit 1, the best model written, its float32 nodes listed', () => {
  const out = join(dir, 'budget-unmet.onnx')
  const r = run(
    'quantize',
    MLP,
    '--out',
    out,
    '--mode',
    'static',
    '--calibration-data',
    EVAL,
    '--calibration-method',
    'percentile',
    '--percentile',
    '80',
    '--eval-data',
    EVAL,
    '--max-accuracy-drop',
    '0.5',
    '--max-trials',
    '1',
    '--latency-batches',
    '1',
    '--json',
  )
  assert.equal(r.code, 1, r.err)
  const rep = JSON.parse(r.out)
  const aa = rep.accuracyAware
  assert.equal(aa.met, false)
  assert.equal(aa.trials.length, 2) // all quantised + one fallback trial
  assert.ok(
    aa.trials.every((t: {drop: number}) => t.drop > 0.005),
    JSON.stringify(aa.trials),
  )
  // the best trial (highest accuracy) is what was written and measured
  const best = aa.trials.reduce((a: {accuracy: number}, b: {accuracy: number}) => (b.accuracy > a.accuracy ? b : a))
  assert.deepEqual(aa.keptFloat, best.keptFloat)
  assert.ok(Math.abs(rep.measurement.accuracy.after - best.accuracy) < 1e-9)
  assert.deepEqual(
    rep.skipped.filter((s: {reason: string}) => /accuracy-aware/.test(s.reason)).map((s: {node: string}) => s.node),
    aa.keptFloat,
  )
  assert.ok(existsSync(out))
  const human = run(
    'quantize',
    MLP,
    '--out',
    join(dir, 'budget-unmet2.onnx'),
    '--mode',
    'static',
    '--calibration-data',
    EVAL,
    '--calibration-method',
    'percentile',
    '--percentile',
    '80',
    '--eval-data',
    EVAL,
    '--max-accuracy-drop',
    '0.5',
    '--max-trials',
    '1',
    '--latency-batches',
    '1',
  )
  assert.equal(human.code, 1)
  assert.match(
    human.err,
    /accuracy budget 0.5 points NOT met within 1 fallback trial\(s\); the best result was written: 1 node\(s\) in float32 \(\S+\), accuracy drop \d+\.\d\d points/,
  )
  const usage = run('quantize', MLP, '--out', join(dir, 'mt.onnx'), '--max-trials', '2')
  assert.equal(usage.code, 2)
  assert.match(usage.err, /--max-trials .* needs --max-accuracy-drop/)
})
