// The decision rule on synthetic, seeded sample sets: A/A never flagged, a 20% shift always flagged,
// improvements reported, too few windows refused, request errors fail the gate.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {compareRuns, type CompareOptions} from '../../src/gate/compare.ts'
import {EXIT} from '../../src/errors.ts'
import {makeRun, MACHINE} from './synthetic.ts'

const OPTS: CompareOptions = {metrics: ['throughput', 'p99', 'p50', 'errors'], maxRegression: 0.05, alpha: 0.05}
// Fewer resamples in loops keep the suite fast on a shared 2-core box; the CI still has ~±0.5% MC error.
const FAST = {...OPTS, resamples: 1000}

test('A/A: 200 pairs of runs from the same distribution (3% noise, 10 windows) are never flagged', () => {
  for (let i = 0; i < 200; i++) {
    const c = compareRuns(makeRun([{}], 1000 + 2 * i), makeRun([{}], 1001 + 2 * i), FAST)
    assert.equal(c.verdict, 'ok', `draw ${i}: ${c.summary}`)
    assert.equal(c.exitCode, EXIT.OK)
    assert.equal(c.regressions, 0)
    assert.equal(c.improvements, 0, `draw ${i}: an A/A improvement is a false positive too`)
  }
})

test('A/A with noise as large as the threshold (5% noise, 20 windows): never flagged', () => {
  for (let i = 0; i < 100; i++) {
    const c = compareRuns(makeRun([{noise: 0.05, windows: 20}], 5000 + 2 * i), makeRun([{noise: 0.05, windows: 20}], 5001 + 2 * i), FAST)
    assert.equal(c.regressions + c.improvements, 0, `draw ${i}: ${c.summary}`)
  }
})

test('A/A with noise twice the threshold: false flags stay below alpha (the test alone would give ≈ alpha per row)', () => {
  // Here "never" no longer holds — the gate's guarantee is that p < alpha is required, so the rate
  // of false flags per row is at most alpha; the CI condition pushes it far lower.
  let flagged = 0
  let significant = 0
  let rows = 0
  const draws = 200
  for (let i = 0; i < draws; i++) {
    const c = compareRuns(makeRun([{noise: 0.1, windows: 10}], 7000 + 2 * i), makeRun([{noise: 0.1, windows: 10}], 7001 + 2 * i), {
      ...FAST,
      metrics: ['throughput', 'p50', 'p99'],
    })
    flagged += c.regressions + c.improvements
    for (const r of c.rows) {
      rows++
      if (r.p! < 0.05) significant++
    }
  }
  assert.ok(significant / rows > 0.01 && significant / rows < 0.09, `Mann-Whitney is calibrated: ${significant}/${rows} rows with p < 0.05`)
  assert.ok(flagged / rows < 0.01, `${flagged}/${rows} rows falsely flagged`)
})

test('a 20% shift (throughput −20%, latency +20%) is always flagged, on every metric', () => {
  for (let i = 0; i < 100; i++) {
    const base = makeRun([{}], 2000 + 2 * i)
    const next = makeRun([{throughput: 800, p50: 12, p99: 36}], 2001 + 2 * i)
    const c = compareRuns(base, next, FAST)
    assert.equal(c.verdict, 'regression', `draw ${i}: ${c.summary}`)
    assert.equal(c.exitCode, EXIT.REGRESSION)
    const verdicts = Object.fromEntries(c.rows.map((r) => [r.metric, r.verdict]))
    assert.deepEqual(verdicts, {throughput: 'regression', p99: 'regression', p50: 'regression', errors: '~'})
  }
})

test('the same shift the other way is an improvement, and passes', () => {
  const c = compareRuns(makeRun([{}], 1), makeRun([{throughput: 1250, p50: 8, p99: 24}], 2), OPTS)
  assert.equal(c.verdict, 'ok')
  assert.equal(c.improvements, 3)
  const tp = c.rows.find((r) => r.metric === 'throughput')!
  assert.ok(tp.change! > 0.2 && tp.changeCI!.lo > 0.05)
  assert.ok(tp.p! < 0.001)
})

test('a real but small shift (2%) is inside the 5% threshold: "~", with a note when significant', () => {
  const c = compareRuns(makeRun([{noise: 0.005, windows: 20}], 3), makeRun([{noise: 0.005, windows: 20, p50: 10.2}], 4), {...OPTS, metrics: ['p50']})
  const r = c.rows[0]!
  assert.equal(r.verdict, '~')
  assert.ok(r.p! < 0.05, 'the shift is detected statistically')
  assert.match(r.note ?? '', /not entirely beyond/)
  assert.equal(c.verdict, 'ok')
})

test('too few windows (3 per side at α = 0.05) is refused with how many are needed, not passed', () => {
  const c = compareRuns(makeRun([{windows: 3}], 1), makeRun([{windows: 3, throughput: 500}], 2), OPTS)
  assert.equal(c.verdict, 'error')
  assert.equal(c.exitCode, EXIT.USAGE)
  assert.match(c.summary, /needs at least 4 per side/)
  const r = c.rows.find((x) => x.metric === 'throughput')!
  assert.equal(r.verdict, 'error')
  // 4 per side is enough to decide an obvious shift.
  const ok = compareRuns(makeRun([{windows: 4}], 1), makeRun([{windows: 4, throughput: 500}], 2), OPTS)
  assert.equal(ok.verdict, 'regression')
  // A stricter alpha needs more: 6 per side at 0.01.
  const strict = compareRuns(makeRun([{windows: 5}], 1), makeRun([{windows: 5}], 2), {...OPTS, alpha: 0.01})
  assert.match(strict.summary, /needs at least 6 per side/)
})

test('request errors in the new run fail the gate unless the baseline had them too', () => {
  const clean = makeRun([{}], 1)
  const failing = makeRun([{errorsPerWindow: 1}], 2)
  const c = compareRuns(clean, failing, OPTS)
  assert.equal(c.verdict, 'regression')
  const r = c.rows.find((x) => x.metric === 'errors')!
  assert.equal(r.verdict, 'regression')
  assert.match(r.note!, /10 request error\(s\) in the new run, none in the baseline/)
  const both = compareRuns(makeRun([{errorsPerWindow: 2}], 3), failing, OPTS)
  assert.equal(both.verdict, 'ok')
  assert.equal(both.rows.find((x) => x.metric === 'errors')!.verdict, '~')
  const fixed = compareRuns(failing, clean, OPTS)
  assert.equal(fixed.rows.find((x) => x.metric === 'errors')!.verdict, 'improvement')
  // Left out of --metric, errors are not judged.
  assert.equal(compareRuns(clean, failing, {...OPTS, metrics: ['throughput']}).verdict, 'ok')
})

test('points are matched by id; unmatched ones are warned about; none matching is a usage error', () => {
  const base = makeRun([{id: 'c=1'}, {id: 'c=8'}], 1)
  const next = makeRun([{id: 'c=8'}, {id: 'c=16'}], 2)
  const c = compareRuns(base, next, OPTS)
  assert.deepEqual(c.unmatched, {onlyInBase: ['c=1'], onlyInNew: ['c=16']})
  assert.ok(c.rows.every((r) => r.point === 'c=8'))
  assert.ok(c.warnings.some((w) => /not measured in the new run: c=1/.test(w)))
  const none = compareRuns(makeRun([{id: 'a'}], 1), makeRun([{id: 'b'}], 2), OPTS)
  assert.equal(none.verdict, 'error')
  assert.equal(none.exitCode, EXIT.USAGE)
})

test('a point that failed in the new run is a runtime failure (exit 1)', () => {
  const c = compareRuns(makeRun([{}], 1), makeRun([{failed: 'server crashed'}], 2), OPTS)
  assert.equal(c.verdict, 'error')
  assert.equal(c.exitCode, EXIT.RUNTIME)
  assert.match(c.summary, /server crashed/)
})

test('machine, model and settings differences are warnings, not failures', () => {
  const base = makeRun([{}], 1)
  const next = makeRun([{}], 2, {
    machine: {...MACHINE, cores: 4, cpuModel: 'Other CPU'},
    model: {name: 'mnist', sha256: 'b'.repeat(64)},
    settings: {windowS: 10, windows: 10},
  })
  const c = compareRuns(base, next, OPTS)
  assert.equal(c.verdict, 'ok')
  assert.ok(
    c.warnings.some((w) => /machine differs.*cores: 2 → 4/.test(w)),
    c.warnings.join('\n'),
  )
  assert.ok(c.warnings.some((w) => /model differs/.test(w)))
  assert.ok(c.warnings.some((w) => /windowS: 5 → 10/.test(w)))
})

test('deterministic: the same inputs give the same comparison', () => {
  const a = compareRuns(makeRun([{}], 1), makeRun([{}], 2), OPTS)
  const b = compareRuns(makeRun([{}], 1), makeRun([{}], 2), OPTS)
  assert.deepEqual(a, b)
})

test('bad options are usage errors', () => {
  const r = makeRun([{}], 1)
  assert.throws(() => compareRuns(r, r, {...OPTS, alpha: 0}), {code: 'E_USAGE'})
  assert.throws(() => compareRuns(r, r, {...OPTS, maxRegression: 1}), {code: 'E_USAGE'})
  assert.throws(() => compareRuns(r, r, {...OPTS, metrics: []}), {code: 'E_USAGE'})
})
