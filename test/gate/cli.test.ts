// `tfsopt compare` end to end through the compiled CLI (bin/run.js → dist/): exit codes with and
// without --json, reports, baselines. Needs `npm run build` first (npm test does it).
import {test, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {makeRun, type PointSpec} from './synthetic.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dir = mkdtempSync(join(tmpdir(), 'tfsopt-cli-'))
const f = (name: string) => join(dir, name)

function write(name: string, points: PointSpec[], seed: number): string {
  writeFileSync(f(name), JSON.stringify(makeRun(points, seed)))
  return f(name)
}

function tfsopt(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), 'compare', ...args], {
    encoding: 'utf8',
    env: {...process.env, GITHUB_STEP_SUMMARY: '', ...env},
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** Runs with and without --json; both must exit with `code`. Returns the parsed JSON output. */
function both(args: string[], code: number, env: Record<string, string> = {}) {
  const text = tfsopt(args, env)
  assert.equal(text.code, code, `without --json: ${text.stderr}`)
  const json = tfsopt([...args, '--json'], env)
  assert.equal(json.code, code, `with --json: ${json.stdout} ${json.stderr}`)
  return {text, json: JSON.parse(json.stdout)}
}

before(() => {
  const dist = join(root, 'dist', 'commands', 'compare.js')
  assert.ok(existsSync(dist), 'dist/commands/compare.js is missing: run `npm run build` first')
  // A stale build would test old code: every gate/stats source must be older than its output.
  for (const sub of ['gate', 'stats']) {
    for (const file of readdirSync(join(root, 'src', sub))) {
      const out = join(root, 'dist', sub, file.replace(/\.ts$/, '.js'))
      assert.ok(
        existsSync(out) && statSync(out).mtimeMs >= statSync(join(root, 'src', sub, file)).mtimeMs,
        `dist is older than src/${sub}/${file}: run \`npm run build\``,
      )
    }
  }
  write('base.json', [{id: 'c=1'}, {id: 'c=8'}], 1)
  write('same.json', [{id: 'c=1'}, {id: 'c=8'}], 2)
  write('slow.json', [{id: 'c=1', throughput: 800, p99: 40}, {id: 'c=8'}], 3)
  write('few-a.json', [{windows: 3}], 4)
  write('few-b.json', [{windows: 3}], 5)
  write('errors.json', [{id: 'c=1', errorsPerWindow: 1}, {id: 'c=8'}], 6)
  write('failed.json', [{id: 'c=1', failed: 'server exited with code 137'}, {id: 'c=8'}], 7)
})
after(() => rmSync(dir, {recursive: true, force: true}))

test('no regression: exit 0; table on stderr, JSON on stdout', () => {
  const {text, json} = both([f('base.json'), f('same.json')], 0)
  assert.match(text.stderr, /verdict: no regression/)
  assert.equal(text.stdout, '')
  assert.equal(json.verdict, 'ok')
  assert.equal(json.rows.length, 8)
})

test('regression: exit 3 with and without --json, and the JSON still carries the rows', () => {
  const {text, json} = both([f('base.json'), f('slow.json'), '--resamples', '2000'], 3)
  assert.match(text.stderr, /REGRESSION/)
  assert.equal(json.verdict, 'regression')
  assert.equal(json.exitCode, 3)
  assert.deepEqual(
    json.rows.filter((r: {verdict: string}) => r.verdict === 'regression').map((r: {point: string; metric: string}) => `${r.point} ${r.metric}`),
    ['c=1 throughput', 'c=1 p99'],
  )
})

test('--metric limits what is judged: p50 only → no regression', () => {
  const {json} = both([f('base.json'), f('slow.json'), '--metric', 'p50'], 0)
  assert.deepEqual([...new Set(json.rows.map((r: {metric: string}) => r.metric))], ['p50'])
})

test('request errors in the new run only: exit 3', () => {
  const {json} = both([f('base.json'), f('errors.json'), '--metric', 'errors'], 3)
  assert.equal(json.rows[0].verdict, 'regression')
})

test('too few windows: exit 2 and says how many are needed', () => {
  const {text, json} = both([f('few-a.json'), f('few-b.json')], 2)
  assert.match(text.stderr, /error \[E_USAGE\].*needs at least 4 per side/)
  assert.equal(json.error.code, 'E_USAGE')
  assert.match(json.error.message, /needs at least 4 per side/)
})

test('a point that failed in the new run: exit 1', () => {
  const {json} = both([f('base.json'), f('failed.json')], 1)
  assert.equal(json.error.code, 'E_RUNTIME')
  assert.match(json.error.message, /server exited with code 137/)
})

test('usage errors exit 2 in both modes: missing file, corrupt file, bad flag values, unknown flag, missing argument', () => {
  writeFileSync(f('corrupt.json'), '{"schema": "tfsopt-bench/1", "points": [')
  both([f('base.json'), f('missing.json')], 2)
  both([f('base.json'), f('corrupt.json')], 2)
  both([f('base.json'), f('same.json'), '--alpha', '2'], 2)
  both([f('base.json'), f('same.json'), '--max-regression', '5'], 2)
  both([f('base.json'), f('same.json'), '--metric', 'latency'], 2)
  both([f('base.json'), f('same.json'), '--bogus'], 2)
  const {json} = both([f('base.json')], 2)
  assert.equal(json.error.code, 'E_USAGE')
})

test('--markdown writes the PR comment; GITHUB_STEP_SUMMARY gets it appended', () => {
  const summary = f('step-summary.md')
  writeFileSync(summary, '# build\n')
  const r = tfsopt([f('base.json'), f('slow.json'), '--markdown', f('comment.md'), '--resamples', '1000'], {GITHUB_STEP_SUMMARY: summary})
  assert.equal(r.code, 3)
  const md = readFileSync(f('comment.md'), 'utf8')
  assert.match(md, /Performance regression detected/)
  assert.match(md, /\| c=1 \| throughput \(req\/s\) \|/)
  assert.equal(readFileSync(summary, 'utf8'), `# build\n${md}\n`)
})

test('--save-baseline saves the new run when the gate passes, and not when it regresses', () => {
  const saved = f('saved-baseline.json')
  assert.equal(tfsopt([f('base.json'), f('slow.json'), '--save-baseline', saved, '--resamples', '1000']).code, 3)
  assert.equal(existsSync(saved), false)
  assert.equal(tfsopt([f('base.json'), f('same.json'), '--save-baseline', saved, '--resamples', '1000']).code, 0)
  const b = JSON.parse(readFileSync(saved, 'utf8'))
  assert.equal(b.schema, 'tfsopt-bench/2')
  assert.deepEqual(b.points, JSON.parse(readFileSync(f('same.json'), 'utf8')).points)
  // And it works as a baseline.
  assert.equal(tfsopt([saved, f('same.json'), '--resamples', '1000']).code, 0)
})
