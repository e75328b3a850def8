import {test} from 'node:test'
import assert from 'node:assert/strict'
import {erlangB, erlangC} from '../../src/queueing/erlang.js'
import {TfsoptError} from '../../src/errors.js'

const close = (got: number, want: number, rel = 1e-6) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want} (rel ${rel})`)

test('Erlang C matches the reference vectors (test-vectors.md)', () => {
  const vectors: Array<[number, number, number]> = [
    [1, 0.5, 0.5],
    [2, 1, 0.3333333333],
    [4, 3, 0.5094339623],
    [8, 6, 0.3569810859],
    [16, 14, 0.5084822061],
  ]
  for (const [c, a, want] of vectors) close(erlangC(c, a), want)
})

test('Erlang B closed forms: B(1,a) = a/(1+a); B(2,1) = (1/2)/(1+1+1/2) = 0.2 (Kleinrock Vol. 1 eq. 3.46)', () => {
  close(erlangB(1, 0.5), 0.5 / 1.5)
  close(erlangB(2, 1), 0.2)
})

test('Erlang B recursion stays finite for large c (no factorials): c = 1000, a = 950', () => {
  const b = erlangB(1000, 950)
  assert.ok(b > 0 && b < 1)
  const c = erlangC(1000, 950)
  assert.ok(c > b && c < 1, 'C ≥ B always')
})

test('Erlang C refuses a ≥ c and bad inputs with E_USAGE', () => {
  assert.throws(
    () => erlangC(2, 2),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE' && e.exit === 2,
  )
  assert.throws(
    () => erlangB(0, 1),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE',
  )
  assert.throws(
    () => erlangB(2, -1),
    (e: unknown) => e instanceof TfsoptError && e.code === 'E_USAGE',
  )
})
