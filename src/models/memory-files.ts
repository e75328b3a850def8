/**
 * Model files that exist only in this process's memory: the decrypted contents of an encrypted model
 * (mounted under the container's own path, so `/m/model.onnx.enc/model.onnx` is its model file), and the
 * scratch outputs of an optimiser working on one. Every reader of model files (ONNX protobuf, TF.js
 * model.json and shards, onnxruntime's session) looks here first, so decrypted bytes never touch disk.
 * Each thread has its own: a worker mounts the container itself.
 */
import {existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {resolve, sep} from 'node:path'
import type {BundleFile} from './sealed/container.js'

const files = new Map<string, Uint8Array>()
const dirs = new Map<string, number>()

const inDir = (path: string): boolean => {
  for (const d of dirs.keys()) if (path.startsWith(d + sep)) return true
  return false
}

/** Puts `bundle` under `root` until the returned function is called. */
export function mountFiles(root: string, bundle: BundleFile[]): () => void {
  const r = resolve(root)
  const names = bundle.map((f) => resolve(r, f.name))
  for (let i = 0; i < bundle.length; i++) files.set(names[i]!, bundle[i]!.bytes)
  dirs.set(r, (dirs.get(r) ?? 0) + 1)
  return () => {
    const n = (dirs.get(r) ?? 1) - 1
    if (n > 0) {
      dirs.set(r, n)
      return
    }
    dirs.delete(r)
    for (const [p] of files) if (p.startsWith(r + sep)) files.delete(p)
  }
}

export function memoryFile(path: string): Uint8Array | undefined {
  return files.get(resolve(path))
}

export function isInMemory(path: string): boolean {
  const p = resolve(path)
  return files.has(p) || dirs.has(p) || inDir(p)
}

export function readModelBytes(path: string): Buffer {
  const m = memoryFile(path)
  return m ? Buffer.from(m.buffer, m.byteOffset, m.byteLength) : readFileSync(path)
}

export function modelFileExists(path: string): boolean {
  return files.has(resolve(path)) || existsSync(path)
}

export function modelFileSize(path: string): number {
  return memoryFile(path)?.byteLength ?? statSync(path).size
}

/** Writes a model file: into memory when `path` is under a mounted directory, else to disk. */
export function writeModelBytes(path: string, bytes: Uint8Array): void {
  const p = resolve(path)
  if (inDir(p)) files.set(p, bytes)
  else writeFileSync(p, bytes)
}

/** Files in memory directly under `dir` (names relative to it). */
export function memoryEntries(dir: string): string[] {
  const d = resolve(dir) + sep
  return [...files.keys()].filter((p) => p.startsWith(d) && !p.slice(d.length).includes(sep)).map((p) => p.slice(d.length))
}
