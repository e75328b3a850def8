/**
 * The model key: 32 bytes, written as 64 hex digits or as base64 (44 characters), taken from the file
 * named by --key-file or from the environment variable TFSOPT_MODEL_KEY. Never from a flag's value,
 * which any user of the machine could read in the process list.
 */
import {readFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {TfsoptError} from '../../errors.js'

export const KEY_ENV = 'TFSOPT_MODEL_KEY'
const KEY_BYTES = 32

let keyFile: string | undefined
let cached: {source: string; text: string; key: Buffer} | undefined

/** A command's --key-file: read (once) instead of the environment variable. */
export function useKeyFile(path: string | undefined): void {
  keyFile = path === undefined ? undefined : resolve(path)
  cached = undefined
}

/** The --key-file in use (absolute), so a child `tfsopt serve` (bench) is given the same one. */
export const currentKeyFile = (): string | undefined => keyFile

export function parseKey(text: string, source: string): Buffer {
  const t = text.trim()
  let key: Buffer | undefined
  if (/^[0-9a-fA-F]+$/.test(t) && t.length % 2 === 0) key = Buffer.from(t, 'hex')
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) key = Buffer.from(t, t.includes('-') || t.includes('_') ? 'base64url' : 'base64')
  if (!key) throw new TfsoptError('E_KEY', `the model key in ${source} is neither hex nor base64; give 32 bytes as 64 hex digits or 44 base64 characters`)
  if (key.length !== KEY_BYTES)
    throw new TfsoptError(
      'E_KEY',
      `the model key in ${source} is ${key.length} bytes; AES-256 needs exactly ${KEY_BYTES} (64 hex digits or 44 base64 characters; make one with: openssl rand -hex 32)`,
    )
  return key
}

/** The key to use now; throws E_KEY naming both places when neither holds one. */
export function modelKey(forWhat: string): Buffer {
  const source = keyFile ? `--key-file ${keyFile}` : `$${KEY_ENV}`
  if (keyFile && cached?.source === source) return cached.key
  let text: string | undefined
  if (keyFile) {
    try {
      text = readFileSync(keyFile, 'utf8')
    } catch (err) {
      throw new TfsoptError('E_KEY', `cannot read --key-file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  } else text = process.env[KEY_ENV]
  if (text === undefined || text.trim() === '')
    throw new TfsoptError(
      'E_KEY',
      `${forWhat} needs the model key: set ${KEY_ENV} to 32 bytes in hex or base64, or pass --key-file FILE (make one with: openssl rand -hex 32)`,
    )
  if (cached?.source === source && cached.text === text) return cached.key
  const key = parseKey(text, source)
  cached = {source, text, key}
  return key
}
