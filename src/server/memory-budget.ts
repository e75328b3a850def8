/**
 * --model-memory-budget: how many bytes the loaded models may hold together, and how a model's memory
 * is measured. A budget is bytes ("512MB", "2GiB", "1500000") or a share of the machine's memory
 * ("25%"). A model's figure is measured when it loads: the process's resident set before and after its
 * workers open their sessions (loads are serialised, so the difference is that model's), never less
 * than its files on disk times the workers holding them, with the runtime's own count beside it where
 * the runtime keeps one (TF.js's tf.memory().numBytes).
 */
import {readdirSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {totalmem} from 'node:os'
import {usageError} from '../errors.js'
import type {DetectedModel} from '../models/detect.js'

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
}

/** "512MB" | "2GiB" | "1500000" | "25%" (of total machine memory) → bytes; refuses anything else. */
export function parseMemoryBudget(text: string | number, where = '--model-memory-budget', total = totalmem()): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text <= 0) throw usageError(`${where} must be a positive number of bytes, got ${text}`)
    return Math.floor(text)
  }
  const s = text.trim().toLowerCase()
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s)
  if (pct) {
    const p = Number(pct[1])
    if (!(p > 0 && p <= 100)) throw usageError(`${where}: a percentage must be above 0 and at most 100, got "${text}"`)
    return Math.floor((total * p) / 100)
  }
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(s)
  const unit = m ? UNITS[m[2]!] : undefined
  if (!m || unit === undefined || Number(m[1]) <= 0)
    throw usageError(`${where} must be bytes with an optional unit (e.g. 512MB, 2GiB, 1500000) or a share of the machine's memory (e.g. 25%), got "${text}"`)
  return Math.floor(Number(m[1]) * unit)
}

/** 123456789 → "117.7 MiB" (for messages and logs). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

function dirBytes(dir: string, depth = 0): number {
  let total = 0
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, e.name)
    if (e.isDirectory()) {
      if (depth < 4) total += dirBytes(p, depth + 1)
    } else if (e.isFile()) total += statSync(p).size
  }
  return total
}

/**
 * Bytes of a model's files: the ONNX file (and external-data files beside it, when it sits alone in a
 * version directory), a TF.js model.json's directory (its weight shards), a SavedModel's directory.
 */
export function modelFileBytes(det: DetectedModel): number {
  try {
    const st = statSync(det.path)
    if (st.isDirectory()) return dirBytes(det.path)
    // A model in a version directory owns that directory (weights shards, external data).
    if (det.format === 'tfjs' || det.version !== undefined) return dirBytes(dirname(det.path))
    return st.size
  } catch {
    return 0
  }
}

/** What one loaded version holds, as measured when it loaded. */
export interface MemoryFigure {
  /** The figure charged against the budget: max(rssDeltaBytes, fileBytes × workers). */
  bytes: number
  /** Process resident set after the workers' sessions opened, minus before. */
  rssDeltaBytes: number
  fileBytes: number
  /** The runtime's own count of what the session holds (TF.js), summed over the workers; absent for onnxruntime. */
  runtimeBytes?: number
}

export function chargeOf(rssDeltaBytes: number, fileBytes: number, workers: number, runtimeBytes?: number): MemoryFigure {
  const bytes = Math.max(rssDeltaBytes, fileBytes * workers, runtimeBytes ?? 0)
  return {bytes, rssDeltaBytes, fileBytes, ...(runtimeBytes !== undefined ? {runtimeBytes} : {})}
}

/** The figure as the status answers show it (snake_case, as TF Serving's JSON). */
export function memoryJson(f: MemoryFigure): Record<string, number> {
  return {
    bytes: f.bytes,
    rss_delta_bytes: f.rssDeltaBytes,
    file_bytes: f.fileBytes,
    ...(f.runtimeBytes !== undefined ? {runtime_bytes: f.runtimeBytes} : {}),
  }
}
