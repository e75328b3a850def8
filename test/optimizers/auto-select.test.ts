// The pure decisions of `quantize --mode auto`: hand-made figures, no timing.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {admissible, backoffOrder, geomean, keepsSpeed, pickCandidate, score} from '../../src/optimizers/service/auto-select.js'

test('geomean weighs ratios multiplicatively', () => {
  assert.equal(geomean([]), 1)
  assert.ok(Math.abs(geomean([0.5, 2]) - 1) < 1e-12)
  assert.ok(Math.abs(geomean([0.25, 1]) - 0.5) < 1e-12)
})

test('keepsSpeed: faster at every batch and within the cosine budget', () => {
  assert.ok(keepsSpeed({node: 'a', ratios: [0.9, 0.5], cosine: 0.999}, 0.99))
  assert.ok(!keepsSpeed({node: 'a', ratios: [1.01, 0.3], cosine: 0.999}, 0.99), 'slower at batch 1')
  assert.ok(!keepsSpeed({node: 'a', ratios: [1, 0.3], cosine: 0.999}, 0.99), 'equal is no gain')
  assert.ok(!keepsSpeed({node: 'a', ratios: [0.5], cosine: 0.98}, 0.99))
  assert.ok(!keepsSpeed({node: 'a', ratios: [], cosine: 1}, 0.99))
})

test('backoffOrder: smallest gain first when slower, lowest cosine first when inaccurate', () => {
  const kept = [
    {node: 'big', ratios: [0.5, 0.3], cosine: 0.995},
    {node: 'small', ratios: [0.98, 0.95], cosine: 0.9999},
    {node: 'mid', ratios: [0.8, 0.7], cosine: 0.991},
  ]
  assert.deepEqual(backoffOrder(kept, 'slower'), ['small', 'mid', 'big'])
  assert.deepEqual(backoffOrder(kept, 'fidelity'), ['mid', 'big', 'small'])
})

test('admissible: never slower at any batch, some gain unless the objective is size, within budget', () => {
  assert.ok(admissible([0.9, 1], true, 'latency'))
  assert.ok(!admissible([0.5, 1.0001], true, 'latency'))
  assert.ok(!admissible([1, 1], true, 'latency'))
  assert.ok(admissible([1, 1], true, 'size'))
  assert.ok(!admissible([0.5], false, 'latency'))
  assert.ok(!admissible([], true, 'size'))
})

test('pickCandidate by objective; inadmissible ones never win', () => {
  const cs = [
    {name: 'dynamic', ratios: [0.6, 0.4], sizeRatio: 0.27, admissible: true},
    {name: 'float16', ratios: [0.99, 0.99], sizeRatio: 0.5, admissible: true},
    {name: 'static', ratios: [0.5, 0.3], sizeRatio: 0.26, admissible: false},
    {name: 'static-per-channel', ratios: [0.7, 0.45], sizeRatio: 0.2, admissible: true},
  ]
  assert.equal(pickCandidate(cs, 'latency')!.name, 'dynamic')
  assert.equal(pickCandidate(cs, 'size')!.name, 'static-per-channel')
  // balanced: 0.49·0.27 = 0.132 vs 0.561·0.2 = 0.112
  assert.ok(score(cs[3]!, 'balanced') < score(cs[0]!, 'balanced'))
  assert.equal(pickCandidate(cs, 'balanced')!.name, 'static-per-channel')
  assert.equal(pickCandidate([{...cs[0]!, admissible: false}], 'latency'), undefined)
})
