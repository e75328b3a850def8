/**
 * Scenario 8 — optimiser safety. `tfsopt quantize IN --out OUT` and `tfsopt prune IN --out OUT` are
 * interrupted with SIGINT and SIGKILL at several moments: part-way through by the clock, the instant
 * the temporary output appears (mid-write), while it is being smoke-tested, and right after the
 * rename. Expect: IN byte-identical every time; OUT either absent or complete (byte-identical to an
 * uninterrupted run's, and loadable). Leftover temporary files are reported (and, for SIGINT, which a
 * program can handle, must not exist).
 * Model: fixtures/models/matmul-heavy.onnx (16 MB of weights; generated on first use, git-ignored).
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {ensureMatmulHeavyFixture} from '../../scripts/fixtures/matmul-heavy.js'
import {PACKAGE_ROOT} from '../../src/fixtures.js'
import {openSession} from '../../src/runtime/load.js'
import {cli, exclusive, report, sleep, tmp} from './harness.js'

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex')

interface Run {
  code: number | null
  signal: string | null
  ms: number
  tmpSeenAt: number
  outSeenAt: number
  killedAt: number
}

/**
 * Runs the command; `killAt` decides, on every 1 ms tick, whether to send `signal` now. Watches the
 * output directory for the temporary sibling and OUT. TMPDIR is private, so work directories left
 * behind can be counted.
 */
async function runCommand(
  args: string[],
  dir: string,
  out: string,
  tmpdir: string,
  signal?: NodeJS.Signals,
  killAt?: (t: number, r: Run) => boolean,
): Promise<Run> {
  const {cmd, args: pre} = cli()
  const p = spawn(cmd, [...pre, ...args, '--json'], {cwd: PACKAGE_ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, TMPDIR: tmpdir}})
  let stderr = ''
  p.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-2000)))
  const t0 = performance.now()
  const r: Run = {code: null, signal: null, ms: 0, tmpSeenAt: NaN, outSeenAt: NaN, killedAt: NaN}
  let done = false
  const exited = new Promise<void>((res) =>
    p.on('exit', (code, sig) => {
      r.code = code
      r.signal = sig
      done = true
      res()
    }),
  )
  while (!done && performance.now() - t0 < 60_000) {
    const t = performance.now() - t0
    const names = readdirSync(dir)
    if (Number.isNaN(r.tmpSeenAt) && names.some((n) => n.startsWith('.tfsopt-tmp-'))) r.tmpSeenAt = t
    if (Number.isNaN(r.outSeenAt) && existsSync(out)) r.outSeenAt = t
    if (signal && Number.isNaN(r.killedAt) && killAt!(t, r)) {
      p.kill(signal)
      r.killedAt = t
    }
    await sleep(1)
  }
  if (!done) p.kill('SIGKILL')
  await exited
  r.ms = performance.now() - t0
  if (!signal) assert.equal(r.code, 0, `uninterrupted run failed: ${stderr}`)
  return r
}

async function loadable(path: string): Promise<boolean> {
  try {
    const s = await openSession(path, {device: 'cpu', intraOpThreads: 1})
    await s.dispose()
    return true
  } catch {
    return false
  }
}

const CASES: {command: string; extra: string[]}[] = [
  {command: 'quantize', extra: ['--mode', 'dynamic', '--latency-batches', '1']},
  {command: 'prune', extra: ['--sparsity', '0.5', '--latency-batches', '1']},
]

for (const {command, extra} of CASES) {
  const available = existsSync(join(PACKAGE_ROOT, 'src', 'commands', `${command}.ts`))
  describe(`${command} interrupted`, {timeout: 400_000, skip: !available ? `src/commands/${command}.ts does not exist yet` : false}, () => {
    const failures: string[] = []
    const cleanup: string[] = []
    let root = ''
    // ~60 MB of model copies per command: remove them (the leftovers were counted already).
    after(() => root && rmSync(root, {recursive: true, force: true}))
    before(() =>
      exclusive(async () => {
        const model = await ensureMatmulHeavyFixture()
        root = tmp('tfsopt-reliability-opt-')
        const input = join(root, 'in.onnx')
        copyFileSync(model, input)
        const inHash = sha(input)
        const inMtime = statSync(input).mtimeMs
        const args = (out: string) => [command, input, '--out', out, ...extra]

        // The uninterrupted run: its output is what a complete OUT must equal, its timing places the kills.
        const refDir = join(root, 'ref')
        mkdirSync(refDir)
        const refTmp = join(root, 'tmp-ref')
        mkdirSync(refTmp)
        const ref = await runCommand(args(join(refDir, 'out.onnx')), refDir, join(refDir, 'out.onnx'), refTmp)
        const refHash = sha(join(refDir, 'out.onnx'))
        assert.ok(await loadable(join(refDir, 'out.onnx')))

        const points: [string, (t: number, r: Run) => boolean][] = [
          ['half a run', (t) => t >= 0.5 * ref.ms],
          ['temp file appears', (_t, r) => !Number.isNaN(r.tmpSeenAt)],
          ['temp file + 20 ms', (t, r) => t >= r.tmpSeenAt + 20],
          ['OUT appears', (_t, r) => !Number.isNaN(r.outSeenAt)],
        ]
        const rows: Record<string, unknown>[] = []
        let k = 0
        for (const signal of ['SIGINT', 'SIGKILL'] as const) {
          for (const [label, when] of points) {
            const dir = join(root, `run-${k}`)
            const tmpd = join(root, `tmp-${k++}`)
            mkdirSync(dir)
            mkdirSync(tmpd)
            const out = join(dir, 'out.onnx')
            const r = await runCommand(args(out), dir, out, tmpd, signal, when)
            const outState = !existsSync(out) ? 'absent' : sha(out) === refHash && (await loadable(out)) ? 'complete' : 'PARTIAL'
            // Only what tfsopt itself creates: the temporary sibling of OUT and its tfsopt-* work directories.
            const left = [...readdirSync(dir).filter((n) => n.startsWith('.tfsopt-tmp-')), ...readdirSync(tmpd).filter((n) => n.startsWith('tfsopt-'))]
            const leftovers = left.length
            const inOk = sha(input) === inHash && statSync(input).mtimeMs === inMtime
            rows.push({signal, at: label, killedAtMs: Math.round(r.killedAt), exit: r.code ?? r.signal, out: outState, leftovers, inputUnchanged: inOk})
            if (!inOk) failures.push(`${signal} at ${label}: the input changed`)
            if (outState === 'PARTIAL') failures.push(`${signal} at ${label}: OUT exists but is not the complete output`)
            if (signal === 'SIGINT' && leftovers > 0)
              cleanup.push(`${signal} at ${label}: ${leftovers} temporary file(s)/dir(s) left behind (${left.join(', ')})`)
          }
        }
        report(`optimizer-${command}`, {
          model: model.replace(`${PACKAGE_ROOT}/`, ''),
          uninterruptedMs: Math.round(ref.ms),
          tempFileAtMs: Math.round(ref.tmpSeenAt),
          outAtMs: Math.round(ref.outSeenAt),
          runs: rows,
        })
      }),
    )

    it('never touches IN and leaves OUT absent or complete (SIGINT and SIGKILL)', () => assert.deepEqual(failures, []))

    it('cleans up its temporary files on SIGINT', () => assert.deepEqual(cleanup, []))
  })
}
