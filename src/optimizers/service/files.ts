/**
 * Output safety for optimisers: the input is never overwritten (unless --force), results are written
 * to a temporary sibling and renamed into place only after they loaded and ran; sizes raw and gzipped.
 */
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, readdirSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {gzipSync} from 'node:zlib'
import {TfsoptError} from '../../errors.js'

export function checkOutput(input: string, out: string, force: boolean): void {
  const a = resolve(input)
  const b = resolve(out)
  const inDir = existsSync(a) && statSync(a).isDirectory() ? a : dirname(a)
  if (a === b || (b === inDir && !a.endsWith('.onnx'))) {
    if (!force) throw new TfsoptError('E_EXISTS', `--out ${out} is the input model; refusing to overwrite it (write elsewhere, or pass --force)`)
  } else if (existsSync(b) && !force) throw new TfsoptError('E_EXISTS', `${out} already exists; choose another --out or pass --force to replace it`)
  if (!existsSync(dirname(b))) throw new TfsoptError('E_NOT_FOUND', `the directory for --out (${dirname(b)}) does not exist`)
}

const TMP_PREFIX = '.tfsopt-tmp-'
/** Temporary outputs of this process not yet committed or discarded: removed if we are interrupted. */
const live = new Set<string>()
let handlersInstalled = false

function removeLive(): void {
  for (const p of live) rmSync(p, {recursive: true, force: true})
  live.clear()
}

/**
 * SIGINT/SIGTERM mid-write must leave no partial output: remove this process's temporary files, then
 * exit as the signal would (130/143). SIGKILL cannot be caught; its leftovers are swept by the next run
 * (see sweepStale).
 */
function installCleanup(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', removeLive)
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(sig, () => {
      removeLive()
      process.exit(code)
    })
  }
}

/** Remove temporary outputs left in `dir` by tfsopt processes that no longer exist (killed with SIGKILL). */
function sweepStale(dir: string): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const m = /^\.tfsopt-tmp-(\d+)-/.exec(name)
    if (!m || Number(m[1]) === process.pid) continue
    try {
      process.kill(Number(m[1]), 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, name), {recursive: true, force: true})
    }
  }
}

/** A temporary path next to `out` (same filesystem, so the final rename is atomic). */
export function tempSibling(out: string): string {
  const dir = dirname(resolve(out))
  sweepStale(dir)
  installCleanup()
  const tmp = join(dir, `${TMP_PREFIX}${process.pid}-${basename(out)}`)
  rmSync(tmp, {recursive: true, force: true})
  return trackTemp(tmp)
}

/** Registers a scratch path (file or directory) to be removed if the process is interrupted. */
export function trackTemp(path: string): string {
  installCleanup()
  live.add(path)
  return path
}

export function commit(tmp: string, out: string): void {
  const b = resolve(out)
  if (existsSync(b) && statSync(b).isDirectory()) rmSync(b, {recursive: true, force: true})
  renameSync(tmp, b)
  live.delete(tmp)
}

export function discard(p: string): void {
  rmSync(p, {recursive: true, force: true})
  live.delete(p)
}

export interface SizeInfo {
  bytes: number
  gzipBytes: number
}

/** Size of an .onnx file, or of a TF.js directory (model.json + shards). */
export function modelSize(path: string): SizeInfo {
  const p = resolve(path)
  const files = statSync(p).isDirectory()
    ? readdirSync(p).map((f) => join(p, f))
    : p.endsWith('model.json')
      ? readdirSync(dirname(p)).map((f) => join(dirname(p), f))
      : [p]
  let bytes = 0
  let gzipBytes = 0
  for (const f of files) {
    if (!statSync(f).isFile()) continue
    const buf = readFileSync(f)
    bytes += buf.length
    gzipBytes += gzipSync(buf, {level: 6}).length
  }
  return {bytes, gzipBytes}
}

export function writeTfjsDir(dir: string, json: unknown, shards: {path: string; bytes: Uint8Array}[]): void {
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json))
  for (const s of shards) writeFileSync(join(dir, s.path), s.bytes)
}
