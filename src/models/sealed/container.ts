/**
 * The encrypted model container (`tfsopt encrypt`), format version 1. All integers big-endian.
 *
 *   offset  size  field
 *   0       8     magic "TFSOPTE\n" (54 46 53 4f 50 54 45 0a)
 *   8       1     format version: 1
 *   9       1     cipher: 1 = AES-256-GCM
 *   10      2     reserved, 0
 *   12      8     key id: the first 8 bytes of SHA-256("tfsopt model key id v1\0" ‖ key)
 *   20      12    nonce (random per file)
 *   32      4     N, the length of the header JSON
 *   36      N     header JSON, UTF-8: {"format": "onnx"|"tfjs", "main": "model.onnx", "name": "mnist-mlp.onnx"}
 *   36+N    …     ciphertext of the bundle
 *   end−16  16    GCM authentication tag
 *
 * The whole clear prefix (bytes 0 … 36+N) is the GCM additional authenticated data, so altering the
 * header (format hint, name, nonce) fails authentication like altering the ciphertext does. The key id
 * tells a wrong key from a tampered file before any decryption: with a 256-bit random key it reveals
 * nothing useful to an attacker (it is a hash of the key, not a way to test guesses of anything smaller).
 *
 * The bundle (the plaintext) holds every file of the model, so a TF.js model.json with its weight shards
 * is one container:  u32 count, then per file: u32 name length, name (UTF-8, relative, '/'-separated),
 * u64 size, bytes. `main` names the file a runtime opens (model.onnx, model.json).
 *
 * GCM's nonce is 96 random bits per file: for one key, a nonce repeat becomes likely only after ~2^32
 * files, far beyond a model repository. A file is decrypted whole in memory (GCM's tag is checked at
 * the end, and nothing is used before it is), which bounds a container to what fits in memory twice.
 */
import {createCipheriv, createDecipheriv, createHash, randomBytes} from 'node:crypto'
import {TfsoptError} from '../../errors.js'
import type {ModelFormat} from '../detect.js'

export const MAGIC = Buffer.from('TFSOPTE\n', 'latin1')
export const CONTAINER_VERSION = 1
const CIPHER_AES_256_GCM = 1
const FIXED = 36
const TAG = 16
export const SEALED_SUFFIX = '.enc'

export interface SealedHeader {
  format: Exclude<ModelFormat, 'savedmodel'>
  /** The file of the bundle a runtime opens. */
  main: string
  /** The name the model had when it was encrypted (a hint for people; `decrypt` restores it). */
  name: string
}

export interface BundleFile {
  name: string
  bytes: Uint8Array
}

export function keyId(key: Uint8Array): Buffer {
  return createHash('sha256').update('tfsopt model key id v1\0').update(key).digest().subarray(0, 8)
}

export function looksSealed(head: Uint8Array): boolean {
  return head.length >= MAGIC.length && Buffer.from(head.buffer, head.byteOffset, MAGIC.length).equals(MAGIC)
}

function packBundle(files: BundleFile[]): Buffer {
  const parts: Buffer[] = []
  const count = Buffer.alloc(4)
  count.writeUInt32BE(files.length)
  parts.push(count)
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8')
    const head = Buffer.alloc(4 + name.length + 8)
    head.writeUInt32BE(name.length, 0)
    name.copy(head, 4)
    head.writeBigUInt64BE(BigInt(f.bytes.byteLength), 4 + name.length)
    parts.push(head, Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength))
  }
  return Buffer.concat(parts)
}

function unpackBundle(plain: Buffer, where: string): BundleFile[] {
  const bad = () => new TfsoptError('E_CORRUPT', `${where} decrypted and authenticated, but its bundle is malformed; re-create it with tfsopt encrypt`)
  if (plain.length < 4) throw bad()
  const count = plain.readUInt32BE(0)
  const files: BundleFile[] = []
  let at = 4
  for (let i = 0; i < count; i++) {
    if (at + 4 > plain.length) throw bad()
    const n = plain.readUInt32BE(at)
    if (at + 4 + n + 8 > plain.length) throw bad()
    const name = plain.toString('utf8', at + 4, at + 4 + n)
    const size = Number(plain.readBigUInt64BE(at + 4 + n))
    at += 4 + n + 8
    if (at + size > plain.length) throw bad()
    files.push({name, bytes: plain.subarray(at, at + size)})
    at += size
  }
  return files
}

export function seal(header: SealedHeader, files: BundleFile[], key: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const prefix = Buffer.alloc(FIXED + json.length)
  MAGIC.copy(prefix, 0)
  prefix[8] = CONTAINER_VERSION
  prefix[9] = CIPHER_AES_256_GCM
  keyId(key).copy(prefix, 12)
  randomBytes(12).copy(prefix, 20)
  prefix.writeUInt32BE(json.length, 32)
  json.copy(prefix, FIXED)
  const cipher = createCipheriv('aes-256-gcm', key, prefix.subarray(20, 32))
  cipher.setAAD(prefix)
  const body = Buffer.concat([cipher.update(packBundle(files)), cipher.final()])
  return Buffer.concat([prefix, body, cipher.getAuthTag()])
}

/** The clear header alone: what a container holds, without the key. */
export function readHeader(buf: Uint8Array, where: string): {header: SealedHeader; keyId: Buffer; headerEnd: number} {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (!looksSealed(b)) throw new TfsoptError('E_FORMAT', `${where} is not a tfsopt encrypted model (no TFSOPTE magic); encrypt one with tfsopt encrypt`)
  if (b.length < FIXED + TAG) throw new TfsoptError('E_TAMPERED', `${where} is truncated (${b.length} bytes); it cannot be an encrypted model`)
  if (b[8] !== CONTAINER_VERSION)
    throw new TfsoptError('E_UNSUPPORTED', `${where} is an encrypted model of container version ${b[8]}; this tfsopt reads version ${CONTAINER_VERSION}`)
  if (b[9] !== CIPHER_AES_256_GCM) throw new TfsoptError('E_UNSUPPORTED', `${where} names cipher ${b[9]}; this tfsopt knows 1 (AES-256-GCM)`)
  const n = b.readUInt32BE(32)
  if (FIXED + n + TAG > b.length)
    throw new TfsoptError('E_TAMPERED', `${where}: its header length (${n}) runs past the end of the file; it was truncated or altered`)
  let header: SealedHeader
  try {
    header = JSON.parse(b.toString('utf8', FIXED, FIXED + n)) as SealedHeader
  } catch {
    throw new TfsoptError('E_TAMPERED', `${where}: its header is not valid JSON; the file was altered`)
  }
  if ((header.format !== 'onnx' && header.format !== 'tfjs') || typeof header.main !== 'string')
    throw new TfsoptError('E_TAMPERED', `${where}: its header does not describe a model; the file was altered`)
  return {header, keyId: b.subarray(12, 20), headerEnd: FIXED + n}
}

/** Decrypts and authenticates a whole container; throws E_WRONG_KEY or E_TAMPERED, never returns unauthenticated bytes. */
export function unseal(buf: Uint8Array, key: Uint8Array, where: string): {header: SealedHeader; files: BundleFile[]} {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const {header, keyId: id, headerEnd} = readHeader(b, where)
  checkKey(id, key, where)
  const decipher = createDecipheriv('aes-256-gcm', key, b.subarray(20, 32))
  decipher.setAAD(b.subarray(0, headerEnd))
  decipher.setAuthTag(b.subarray(b.length - TAG))
  let plain: Buffer
  try {
    plain = Buffer.concat([decipher.update(b.subarray(headerEnd, b.length - TAG)), decipher.final()])
  } catch {
    throw new TfsoptError(
      'E_TAMPERED',
      `${where} failed authentication (AES-GCM tag mismatch): the file was altered or damaged after it was encrypted; restore it from a good copy`,
    )
  }
  return {header, files: unpackBundle(plain, where)}
}

export function checkKey(id: Uint8Array, key: Uint8Array, where: string): void {
  if (!keyId(key).equals(id))
    throw new TfsoptError(
      'E_WRONG_KEY',
      `${where} was encrypted with a different key (key id ${Buffer.from(id).toString('hex')}, the key given has ${keyId(key).toString('hex')}); set TFSOPT_MODEL_KEY or --key-file to the key it was encrypted with`,
    )
}
