/**
 * --load-nice (load-priority.ts): the permission check against /proc texts, CFS shares against
 * hand-computed weights, how serve resolves the flag, and on a real server with a memory budget that a
 * model loading on demand runs its worker at the lowered priority while it loads (a long warm-up file
 * keeps it loading long enough to be seen in /proc) and that every thread is back at the server's
 * priority once it is AVAILABLE. Linux only; skipped where /proc/thread-self is missing.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {getPriority} from 'node:os'
import {join} from 'node:path'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {canRestorePriority, loadCpuShare} from '../../src/server/load-priority.js'
import {readModelConfigFile, resolveLoadNice} from '../../src/server/index.js'
import {post, serve, tmp} from './helpers.js'

const linux = existsSync('/proc/thread-self')
const limits = (soft: string) =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${soft}                    ${soft}\n`
const status = (capEff: string) => `Name:\tnode\nCapEff:\t${capEff}\n`

test('canRestorePriority: CAP_SYS_NICE (bit 23) or an RLIMIT_NICE that reaches the base nice', () => {
  const proc = (st: string, lim: string) => (p: string) => (p.endsWith('status') ? st : lim)
  // Root in a default Docker container: CapEff 00000000a80425fb has no bit 23; RLIMIT_NICE 0.
  assert.equal(canRestorePriority(0, proc(status('00000000a80425fb'), limits('0'))), false)
  // Full root: 000001ffffffffff has bit 23.
  assert.equal(canRestorePriority(0, proc(status('000001ffffffffff'), limits('0'))), true)
  // Only bit 23 set: 0x800000.
  assert.equal(canRestorePriority(0, proc(status('0000000000800000'), limits('0'))), true)
  // Unprivileged: RLIMIT_NICE L allows nice down to 20 − L. L = 20 reaches 0, L = 19 only 1.
  assert.equal(canRestorePriority(0, proc(status('0000000000000000'), limits('20'))), true)
  assert.equal(canRestorePriority(0, proc(status('0000000000000000'), limits('19'))), false)
  assert.equal(canRestorePriority(1, proc(status('0000000000000000'), limits('19'))), true)
  assert.equal(canRestorePriority(0, proc(status('0000000000000000'), limits('unlimited'))), true)
  assert.equal(
    canRestorePriority(0, () => undefined),
    undefined,
  )
})

test('loadCpuShare: weight 1024/1.25^nice against one nice-0 thread', () => {
  assert.equal(loadCpuShare(0), 0.5)
  // 1.25^10 = 9.31323; w = 109.951; 109.951 / 1133.951 = 0.096962
  assert.ok(Math.abs(loadCpuShare(10) - 0.096962) < 1e-5)
  // 1.25^19 = 69.3889; w = 14.7575; 14.7575 / 1038.7575 = 0.014207
  assert.ok(Math.abs(loadCpuShare(19) - 0.014207) < 1e-5)
})

test('resolveLoadNice: explicit values need the right to restore; the default says why it is off', () => {
  const lines: string[] = []
  const log = (l: string) => lines.push(l)
  assert.equal(
    resolveLoadNice(undefined, log, () => true),
    10,
  )
  assert.equal(
    resolveLoadNice(5, log, () => true),
    5,
  )
  assert.equal(
    resolveLoadNice(0, log, () => false),
    0,
  )
  assert.equal(lines.length, 0)
  assert.equal(
    resolveLoadNice(undefined, log, () => false),
    0,
  )
  assert.match(lines[0]!, /full priority: .*CAP_SYS_NICE.*ulimit -e 40/)
  assert.throws(() => resolveLoadNice(7, log, () => false), /--load-nice 7: .*pass --load-nice 0/)
  assert.throws(() => resolveLoadNice(7, log, () => undefined), /Linux \/proc/)
  assert.throws(() => resolveLoadNice(20, log, () => true), /integer from 0 to 19, got 20/)
})

/** nice of every thread of this process, from /proc/self/task/<tid>/stat (field 19). */
function niceOfThreads(): number[] {
  const out: number[] = []
  for (const t of readdirSync('/proc/self/task'))
    try {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8')
      out.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
    } catch {
      // the thread exited between the listing and the read
    }
  return out
}

test('an on-demand load runs at --load-nice and every thread is back at the server priority after it', {skip: !linux || !canRestorePriority()}, async () => {
  const dir = tmp('tfsopt-nice-')
  mkdirSync(join(dir, 'assets.extra'))
  copyFileSync(DEFAULT_MODEL, join(dir, 'mnist.onnx'))
  const one = Array.from({length: 784}, (_, i) => i % 2)
  const line = JSON.stringify({instances: [one]})
  const heavy = JSON.stringify({instances: Array.from({length: 8}, () => one)})
  writeFileSync(join(dir, 'assets.extra', 'tfsopt_warmup.jsonl'), `${Array.from({length: 1000}, () => heavy).join('\n')}\n`)
  const base = getPriority(process.pid)
  const srv = await serve({models: [{name: 'mnist', path: join(dir, 'mnist.onnx')}], modelMemoryBudget: '1GiB', loadNice: 10})
  try {
    assert.ok(Math.max(...niceOfThreads()) <= base, 'nothing runs lowered before a load')
    let seen = base
    let done = false
    const first = post(`${srv.url}/v1/models/mnist:predict`, line).finally(() => {
      done = true
    })
    while (!done) {
      seen = Math.max(seen, ...niceOfThreads())
      await new Promise((r) => setTimeout(r, 2))
    }
    const r = await first
    assert.equal(r.status, 200, r.text)
    assert.equal(seen, Math.min(19, base + 10), 'the loading worker ran at the server priority + 10')
    assert.deepEqual([...new Set(niceOfThreads())], [base], 'every thread is back at the server priority')
  } finally {
    await srv.close()
  }
})

test('load_nice in the model config file: 0–19, else a clear error', () => {
  const dir = tmp('tfsopt-nice-config-')
  const file = (nice: unknown) => {
    const f = join(dir, `m${String(nice)}.yaml`)
    writeFileSync(f, `model_config_list:\n  - {name: m, base_path: ${DEFAULT_MODEL}}\nload_nice: ${JSON.stringify(nice)}\n`)
    return f
  }
  assert.equal(readModelConfigFile(file(5)).loadNice, 5)
  assert.throws(() => readModelConfigFile(file(25)), /load_nice must be an integer from 0 to 19/)
  assert.throws(() => readModelConfigFile(file('high')), /load_nice must be an integer from 0 to 19/)
})
