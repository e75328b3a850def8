/**
 * Opening encrypted models: detection reads only the clear header and checks the key id (cheap, so a
 * wrong key is named before any worker starts); a reader mounts the decrypted bundle in memory for as
 * long as it needs the files (see ../memory-files.ts).
 */
import {closeSync, openSync, readFileSync, readSync} from 'node:fs'
import {basename, resolve} from 'node:path'
import {checkKey, looksSealed, MAGIC, readHeader, SEALED_SUFFIX, unseal, type SealedHeader} from './container.js'
import {modelKey} from './key.js'
import {mountFiles} from '../memory-files.js'

export interface SealedRef {
  /** The container file on disk. */
  container: string
  /** Travels to worker threads with the detected model (workerData), never to disk or a log. */
  key: Uint8Array
}

function readHead(path: string, bytes: number): Buffer {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(bytes)
    const n = readSync(fd, buf, 0, bytes, 0)
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

/** True for a `.enc` name or a file that starts with the container magic. */
export function isSealedFile(path: string): boolean {
  if (basename(path).toLowerCase().endsWith(SEALED_SUFFIX)) return true
  try {
    return looksSealed(readHead(path, MAGIC.length))
  } catch {
    return false
  }
}

/** The header of an encrypted model and the key that opens it (checked against the key id). */
export function inspectSealed(path: string): {header: SealedHeader; ref: SealedRef} {
  const container = resolve(path)
  let head = readHead(container, 64 * 1024)
  if (looksSealed(head) && head.length >= 36 && 36 + head.readUInt32BE(32) + 16 > head.length) head = readFileSync(container)
  const {header, keyId} = readHeader(head, path)
  const key = modelKey(`${path} is encrypted; it`)
  checkKey(keyId, key, path)
  return {header, ref: {container, key}}
}

/** Decrypts the container into memory; the files are gone from memory once the returned function runs. */
export function mountSealed(ref: SealedRef): () => void {
  const {files} = unseal(readFileSync(ref.container), ref.key, ref.container)
  return mountFiles(ref.container, files)
}

export async function withSealed<T>(ref: SealedRef | undefined, fn: () => Promise<T>): Promise<T> {
  if (!ref) return fn()
  const unmount = mountSealed(ref)
  try {
    return await fn()
  } finally {
    unmount()
  }
}
