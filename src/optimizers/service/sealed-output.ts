/**
 * Optimising an encrypted model (quantize/prune MODEL.enc): the input is decrypted into memory, every
 * candidate and the final result are written into an in-memory scratch directory (models/memory-files.ts)
 * instead of a temporary file, and the result is encrypted with the same key and written to --out
 * atomically. No plaintext model, input or output, touches disk. The output is always encrypted, so
 * --out must name a .enc file; `tfsopt decrypt` gives the plain model when that is wanted.
 */
import {writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join, resolve} from 'node:path'
import {gzipSync} from 'node:zlib'
import {TfsoptError} from '../../errors.js'
import type {DetectedModel} from '../../models/detect.js'
import {memoryFile, mountFiles} from '../../models/memory-files.js'
import {SEALED_SUFFIX, seal} from '../../models/sealed/container.js'
import {mountSealed, type SealedRef} from '../../models/sealed/open.js'
import {writeAtomically} from '../../models/sealed/seal-files.js'
import type {SizeInfo} from './files.js'

let seq = 0

export interface SealedOutput {
  /** The in-memory scratch directory (candidates). */
  work: string
  /** Where the final model is written before it is encrypted into --out. */
  finalTmp(): string
  /** Encrypts the in-memory result into --out; the sizes compared are the plain (decrypted) models'. */
  commit(tmp: string, out: string, input: string): {before: SizeInfo; after: SizeInfo}
  close(): void
}

const sizeOf = (bytes: Uint8Array | undefined): SizeInfo => ({bytes: bytes?.byteLength ?? 0, gzipBytes: bytes ? gzipSync(bytes, {level: 6}).length : 0})

export function sealedOutput(det: DetectedModel & {sealed: SealedRef}, out: string, command: string): SealedOutput {
  if (det.format !== 'onnx')
    throw new TfsoptError(
      'E_UNSUPPORTED',
      `tfsopt ${command} of an encrypted model works on ONNX; ${det.sealed.container} holds a ${det.format} model (decrypt it, ${command} it, encrypt the result)`,
    )
  if (!out.toLowerCase().endsWith(SEALED_SUFFIX))
    throw new TfsoptError(
      'E_USAGE',
      `${det.sealed.container} is encrypted, so the ${command}d model is encrypted too (same key); name --out with ${SEALED_SUFFIX}, e.g. ${basename(out)}${SEALED_SUFFIX}`,
    )
  if (resolve(out) === det.sealed.container) throw new TfsoptError('E_EXISTS', `--out ${out} is the input; refusing to overwrite it (write elsewhere)`)
  const unmountInput = mountSealed(det.sealed)
  const work = join(tmpdir(), `.tfsopt-memory-${process.pid}-${seq++}`)
  const unmountWork = mountFiles(work, [])
  return {
    work,
    finalTmp: () => join(work, 'final.onnx'),
    commit(tmp, target, input) {
      const bytes = memoryFile(tmp)
      if (!bytes) throw new TfsoptError('E_RUNTIME', `internal: the ${command}d model was not written to memory`)
      const main = basename(target)
        .replace(/\.enc$/i, '')
        .replace(/^(?!.*\.onnx$)(.*)$/, '$1.onnx')
      const sealed = seal({format: 'onnx', main, name: main}, [{name: main, bytes}], det.sealed.key)
      writeAtomically(target, (t) => writeFileSync(t, sealed))
      return {before: sizeOf(memoryFile(input)), after: sizeOf(bytes)}
    },
    close() {
      unmountWork()
      unmountInput()
    },
  }
}
