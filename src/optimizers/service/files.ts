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

/** A temporary path next to `out` (same filesystem, so the final rename is atomic). */
export const tempSibling = (out: string) => join(dirname(resolve(out)), `.tfsopt-tmp-${process.pid}-${basename(out)}`)

export function commit(tmp: string, out: string): void {
  const b = resolve(out)
  if (existsSync(b) && statSync(b).isDirectory()) rmSync(b, {recursive: true, force: true})
  renameSync(tmp, b)
}

export const discard = (p: string) => rmSync(p, {recursive: true, force: true})

export interface SizeInfo {bytes: number; gzipBytes: number}

/** Size of an .onnx file, or of a TF.js directory (model.json + shards). */
export function modelSize(path: string): SizeInfo {
  const p = resolve(path)
  const files = statSync(p).isDirectory() ? readdirSync(p).map((f) => join(p, f)) : p.endsWith('model.json') ? readdirSync(dirname(p)).map((f) => join(dirname(p), f)) : [p]
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
