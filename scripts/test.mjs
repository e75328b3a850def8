#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (Node 20 does not expand globs itself).
// Usage: node scripts/test.mjs [filter-substring ...]
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'

const filters = process.argv.slice(2)
const files = []
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e)
    if (statSync(p).isDirectory()) walk(p)
    else if (p.endsWith('.test.ts') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p)
  }
}
walk('test')
files.sort()
const concurrency = process.env.TFSOPT_TEST_CONCURRENCY ?? '2'
// A test that hangs fails after 5 minutes; a file that never exits (a worker thread or socket left
// open after its tests passed) cannot be timed out by the runner, so the whole suite has a watchdog:
// CI then fails in minutes, saying so, instead of running into its 90-minute limit.
const suiteLimitMin = Number(process.env.TFSOPT_TEST_SUITE_MINUTES ?? 25)
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000', '--test-reporter=spec', ...files],
  {stdio: 'inherit', timeout: suiteLimitMin * 60_000, killSignal: 'SIGKILL'},
)
if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') {
  console.error(`\nthe test suite did not finish within ${suiteLimitMin} minutes: a test file keeps the process alive (a leaked worker, server or timer?)`)
  process.exit(1)
}
process.exit(r.status ?? 1)
