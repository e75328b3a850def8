/**
 * Reading bench results and writing baselines. A baseline is a bench run (schema tfsopt-bench/2, or /1) kept
 * as the reference: it already records the tfsopt version, model hash, settings and machine.
 * Bad input files are usage errors (exit 2) with a message that says what to do — in CI they
 * usually mean a wrong path or a missing artifact, not a tfsopt failure.
 */
import {readFileSync, writeFileSync, renameSync, rmSync, mkdirSync} from 'node:fs'
import {dirname, basename, join} from 'node:path'
import {BENCH_SCHEMA, READABLE_BENCH_SCHEMAS, type BenchRun} from '../results/bench-run.js'
import {TfsoptError, errorMessage} from '../errors.js'
import {describeMachine} from '../results/machine.js'

const bad = (msg: string) => new TfsoptError('E_USAGE', msg)

const WINDOW_FIELDS = ['throughput', 'p50Ms', 'p99Ms', 'errors'] as const

/** Throws E_USAGE unless `data` looks like a BenchRun this version can compare. */
export function validateRun(data: unknown, file = 'input'): BenchRun {
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw bad(`${file}: not a tfsopt bench result (expected a JSON object with schema "${BENCH_SCHEMA}")`)
  const o = data as Record<string, unknown>
  // Older schemas the gate reads unchanged: every field it compares is in each of them.
  if (typeof o.schema !== 'string' || !READABLE_BENCH_SCHEMAS.includes(o.schema)) {
    const got = o.schema === undefined ? 'no "schema" field' : `schema ${JSON.stringify(o.schema)}`
    throw bad(
      `${file}: not a tfsopt bench result (${got}, expected ${READABLE_BENCH_SCHEMAS.map((s) => `"${s}"`).join(' or ')}); produce one with \`tfsopt bench --out FILE\``,
    )
  }
  if (!Array.isArray(o.points)) throw bad(`${file}: "points" must be an array`)
  o.points.forEach((p: unknown, i: number) => {
    const pt = p as Record<string, unknown> | null
    if (!pt || typeof pt !== 'object') throw bad(`${file}: points[${i}] is not an object`)
    if (typeof pt.id !== 'string' || pt.id === '') throw bad(`${file}: points[${i}] has no "id"`)
    if (!Array.isArray(pt.windows)) throw bad(`${file}: point ${pt.id} has no "windows" array (raw per-window samples are what the gate compares)`)
    pt.windows.forEach((w: unknown, j: number) => {
      const win = w as Record<string, unknown> | null
      for (const f of WINDOW_FIELDS) {
        if (!win || typeof win[f] !== 'number' || !Number.isFinite(win[f])) throw bad(`${file}: point ${pt.id} windows[${j}].${f} is not a finite number`)
      }
    })
  })
  return o as unknown as BenchRun
}

/** Reads and validates a bench result or baseline file. */
export function loadRun(file: string): BenchRun {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw bad(`${file}: file not found (create a baseline with \`tfsopt bench --out ${file}\` or \`tfsopt compare ... --save-baseline ${file}\`)`)
    if (code === 'EISDIR') throw bad(`${file}: is a directory, expected a bench result JSON file`)
    throw bad(`${file}: cannot read (${errorMessage(err)})`)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw bad(`${file}: not valid JSON (${errorMessage(err)}); the file may be truncated or not a bench result`)
  }
  return validateRun(data, file)
}

/**
 * Writes `run` as a baseline, atomically: a temp file in the same directory, then rename, so a
 * crash or a concurrent reader never sees half a baseline. Fills in the machine description when
 * the run lacks one and stamps when it was saved (additive fields).
 */
export function saveBaseline(run: BenchRun, file: string): void {
  const out: BenchRun = {...run, machine: run.machine ?? describeMachine(), baselineSavedAt: new Date().toISOString()}
  validateRun(out, file)
  const dir = dirname(file)
  mkdirSync(dir, {recursive: true})
  const tmp = join(dir, `.tfsopt-tmp-${basename(file)}-${process.pid}-${Date.now()}`)
  try {
    writeFileSync(tmp, `${JSON.stringify(out, null, 2)}\n`)
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, {force: true})
    throw new TfsoptError('E_RUNTIME', `cannot write baseline ${file}: ${errorMessage(err)}`, {cause: err})
  }
}
