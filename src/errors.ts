/**
 * The error catalogue (in the spirit of fastify's): every failure a user can see has a code, an exit
 * code for the CLI and an HTTP status for the server, so it is named and documented in one place.
 */
export const EXIT = {
  OK: 0,
  RUNTIME: 1,
  USAGE: 2,
  /** Reserved for the CI gate: a statistically significant regression was detected. */
  REGRESSION: 3,
} as const

export type ErrorCode =
  | 'E_USAGE'
  | 'E_NOT_FOUND'
  | 'E_FORMAT'
  | 'E_CORRUPT'
  | 'E_UNSUPPORTED'
  | 'E_BACKEND_MISSING'
  | 'E_DEVICE'
  | 'E_RUNTIME'
  | 'E_DATA'
  | 'E_EXISTS'
  | 'E_BAD_REQUEST'
  | 'E_UNAUTHORIZED'
  | 'E_TOO_LARGE'
  | 'E_UNAVAILABLE'
  /** A model that alone needs more than --model-memory-budget (507 Insufficient Storage). */
  | 'E_MODEL_MEMORY'
  | 'E_REGRESSION'
  | 'E_KEY'
  | 'E_WRONG_KEY'
  | 'E_TAMPERED'

const DEFAULTS: Record<ErrorCode, {exit: number; status: number}> = {
  E_USAGE: {exit: EXIT.USAGE, status: 400},
  E_NOT_FOUND: {exit: EXIT.RUNTIME, status: 404},
  E_FORMAT: {exit: EXIT.RUNTIME, status: 400},
  E_CORRUPT: {exit: EXIT.RUNTIME, status: 400},
  E_UNSUPPORTED: {exit: EXIT.RUNTIME, status: 400},
  E_BACKEND_MISSING: {exit: EXIT.RUNTIME, status: 500},
  E_DEVICE: {exit: EXIT.RUNTIME, status: 500},
  E_RUNTIME: {exit: EXIT.RUNTIME, status: 500},
  E_DATA: {exit: EXIT.USAGE, status: 400},
  E_EXISTS: {exit: EXIT.USAGE, status: 409},
  E_BAD_REQUEST: {exit: EXIT.USAGE, status: 400},
  E_UNAUTHORIZED: {exit: EXIT.USAGE, status: 401},
  E_TOO_LARGE: {exit: EXIT.USAGE, status: 413},
  E_UNAVAILABLE: {exit: EXIT.RUNTIME, status: 503},
  E_MODEL_MEMORY: {exit: EXIT.RUNTIME, status: 507},
  E_REGRESSION: {exit: EXIT.REGRESSION, status: 500},
  /** Encrypted models (src/models/sealed/): no key, or not 32 bytes of hex/base64. */
  E_KEY: {exit: EXIT.USAGE, status: 500},
  /** The key is well-formed but not the one the model was encrypted with (the container's key id differs). */
  E_WRONG_KEY: {exit: EXIT.RUNTIME, status: 500},
  /** The container failed AES-GCM authentication (or is truncated): altered or damaged after encryption. */
  E_TAMPERED: {exit: EXIT.RUNTIME, status: 500},
}

export class TfsoptError extends Error {
  readonly code: ErrorCode
  readonly exit: number
  readonly status: number
  constructor(code: ErrorCode, message: string, opts: {exit?: number; status?: number; cause?: unknown} = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause})
    this.name = 'TfsoptError'
    this.code = code
    this.exit = opts.exit ?? DEFAULTS[code].exit
    this.status = opts.status ?? DEFAULTS[code].status
  }
}

export const usageError = (msg: string) => new TfsoptError('E_USAGE', msg)
export const notFound = (msg: string) => new TfsoptError('E_NOT_FOUND', msg)
export const badRequest = (msg: string) => new TfsoptError('E_BAD_REQUEST', msg)
export const dataError = (msg: string) => new TfsoptError('E_DATA', msg)

/** One line, whatever was thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err)
  return String(err)
}
