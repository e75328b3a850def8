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
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {stdio: 'inherit'})
process.exit(r.status ?? 1)
