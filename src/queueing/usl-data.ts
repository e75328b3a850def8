import {usageError} from '../errors.js'
import type {UslPoint} from './usl.js'

/**
 * Parses (concurrency, throughput) points for the USL fit from text: a JSON array of
 * {concurrency, throughput} objects or of [n, x] pairs, or CSV (comma, semicolon, tab or spaces)
 * with an optional header row. With a header, columns named concurrency/n/clients and
 * throughput/x/rps are used; otherwise the first two columns. Errors say which line is wrong.
 */
export function parseUslData(text: string, source = 'data'): UslPoint[] {
  const trimmed = text.trim()
  if (trimmed === '') throw usageError(`${source} is empty: give (concurrency, throughput) points as CSV or JSON`)
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseJson(trimmed, source)
  return parseCsv(trimmed, source)
}

function parseJson(text: string, source: string): UslPoint[] {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw usageError(`${source} is not valid JSON (${(err as Error).message}); expected [{"concurrency": 1, "throughput": 950}, ...] or [[1, 950], ...]`)
  }
  if (!Array.isArray(data)) throw usageError(`${source}: expected a JSON array of {concurrency, throughput} or [n, x] pairs`)
  return data.map((item, i) => {
    const [n, x] = Array.isArray(item)
      ? item
      : item && typeof item === 'object'
        ? [(item as Record<string, unknown>).concurrency, (item as Record<string, unknown>).throughput]
        : [undefined, undefined]
    return point(n, x, `${source} item ${i}`)
  })
}

const N_NAMES = ['concurrency', 'n', 'clients', 'connections']
const X_NAMES = ['throughput', 'x', 'rps', 'tput']

function parseCsv(text: string, source: string): UslPoint[] {
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({l: l.trim(), no: i + 1}))
    .filter((x) => x.l !== '' && !x.l.startsWith('#'))
  const split = (l: string) => l.split(/[,;\t ]+/).filter((f) => f !== '')
  let ni = 0
  let xi = 1
  const first = split(lines[0]!.l)
  if (first.some((f) => !Number.isFinite(Number(f)))) {
    const lower = first.map((f) => f.toLowerCase().replace(/["']/g, ''))
    const fn = lower.findIndex((f) => N_NAMES.includes(f))
    const fx = lower.findIndex((f) => X_NAMES.includes(f))
    if (fn >= 0) ni = fn
    if (fx >= 0) xi = fx
    lines.shift()
  }
  return lines.map(({l, no}) => {
    const f = split(l)
    return point(f[ni], f[xi], `${source} line ${no}`)
  })
}

function point(n: unknown, x: unknown, where: string): UslPoint {
  const concurrency = Number(n)
  const throughput = Number(x)
  if (n === undefined || n === null || n === '' || !Number.isFinite(concurrency) || concurrency <= 0)
    throw usageError(`${where}: concurrency must be a number > 0 (got ${String(n)})`)
  if (x === undefined || x === null || x === '' || !Number.isFinite(throughput) || throughput < 0)
    throw usageError(`${where}: throughput must be a number ≥ 0 (got ${String(x)})`)
  return {concurrency, throughput}
}
