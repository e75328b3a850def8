import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseAlpha, parseFraction} from '../../src/gate/options.ts'

test('--max-regression accepts 5% and 0.05, refuses ambiguous and bad values', () => {
  assert.equal(parseFraction('5%', 'x'), 0.05)
  assert.equal(parseFraction('2.5%', 'x'), 0.025)
  assert.equal(parseFraction('0.05', 'x'), 0.05)
  assert.equal(parseFraction('0%', 'x'), 0)
  assert.throws(() => parseFraction('5', '--max-regression'), {code: 'E_USAGE', message: /ambiguous; write 5% or 0.05/})
  assert.throws(() => parseFraction('-5%', 'x'), {code: 'E_USAGE'})
  assert.throws(() => parseFraction('100%', 'x'), {code: 'E_USAGE'})
  assert.throws(() => parseFraction('five', 'x'), {code: 'E_USAGE'})
})

test('--alpha must be in (0, 0.5]', () => {
  assert.equal(parseAlpha('0.05'), 0.05)
  assert.equal(parseAlpha('0.01'), 0.01)
  for (const bad of ['0', '1', '0.6', 'x', '', '-0.1']) assert.throws(() => parseAlpha(bad), {code: 'E_USAGE'}, bad)
})
