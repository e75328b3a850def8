/** `tfsopt serve`'s default threads: one core for the main thread, the rest to inference in workers of about two threads. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {defaultThreads} from '../../src/server/default-threads.js'

test('default threads keep main + workers × intra-op threads within the cores', () => {
  // cores → [workers, intra-op threads], worked by hand from the rule (cores − 1 for inference).
  const want: Record<number, [number, number]> = {1: [1, 1], 2: [1, 1], 3: [1, 2], 4: [1, 3], 5: [2, 2], 8: [3, 2], 16: [7, 2], 64: [31, 2]}
  for (const [cores, [w, t]] of Object.entries(want)) {
    const d = defaultThreads(undefined, undefined, false, Number(cores))
    assert.deepEqual([d.workers, d.intraOpThreads], [w, t], `${cores} cores`)
    if (Number(cores) >= 2) assert.ok(1 + d.workers * d.intraOpThreads <= Number(cores), `${cores} cores: main + ${w}×${t} threads`)
  }
  // A worker count given: the inference cores shared among them; both given: as given.
  assert.deepEqual(defaultThreads(2, undefined, false, 8), {workers: 2, intraOpThreads: 3})
  assert.deepEqual(defaultThreads(9, undefined, false, 8), {workers: 9, intraOpThreads: 1})
  assert.deepEqual(defaultThreads(2, 4, false, 8), {workers: 2, intraOpThreads: 4})
  // On a GPU one worker, with the inference cores as its CPU threads.
  assert.deepEqual(defaultThreads(undefined, undefined, true, 8), {workers: 1, intraOpThreads: 7})
})
