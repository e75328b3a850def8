// The accuracy-aware search on its own, with stub measurements: ranking, order of fallback, trial limit.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {accuracyAwareFallback} from '../../src/optimizers/service/accuracy-aware.js'

// Units a, b, c: alone, quantising b hurts most (output error 9), then c (4), then a (1). Accuracy is
// 0.90 minus 0.03 per unit still quantised that is "harmful" (b and c), baseline 0.90.
const units = ['a', 'b', 'c']
const ref = Float32Array.from([0, 0])
const err: Record<string, number> = {a: 1, b: 3, c: 2}
const hooks = {
  // output with everything but one unit kept float: that unit's error
  outputWith: async (keep: Set<string>) => {
    const q = units.find((u) => !keep.has(u))!
    return Float32Array.from([err[q]!, err[q]!])
  },
  accuracyWith: async (keep: Set<string>) => 0.9 - 0.03 * ['b', 'c'].filter((u) => !keep.has(u)).length,
}
const first = {keptFloat: [], accuracy: 0.84, drop: 0.06}

test('fallback ranks by output MSE and returns the most harmful units first until the budget holds', async () => {
  const r = await accuracyAwareFallback(units, 0.9, ref, 0.005, first, hooks)
  assert.deepEqual(
    r.ranking.map((x) => [x.unit, x.mse]),
    [
      ['b', 9],
      ['c', 4],
      ['a', 1],
    ],
  )
  assert.equal(r.met, true)
  assert.deepEqual(r.best.keptFloat, ['b', 'c'])
  assert.deepEqual(
    r.trials.map((t) => t.keptFloat.length),
    [0, 1, 2],
  )
})

test('with a trial limit the budget can stay unmet: best trial returned, met = false', async () => {
  const r = await accuracyAwareFallback(units, 0.9, ref, 0.005, first, hooks, 1)
  assert.equal(r.met, false)
  assert.equal(r.trials.length, 2)
  assert.deepEqual(r.best.keptFloat, ['b'])
  assert.ok(Math.abs(r.best.drop - 0.03) < 1e-12)
})

test('already within budget: no ranking, no trials', async () => {
  const r = await accuracyAwareFallback(units, 0.9, ref, 0.1, first, hooks)
  assert.equal(r.met, true)
  assert.deepEqual(r.ranking, [])
  assert.equal(r.trials.length, 1)
})
