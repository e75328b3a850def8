/**
 * Reading a request body under a byte limit: refused (413) as soon as it passes the limit, settled when
 * the client goes away mid-upload, and never buffered beyond the limit.
 */
import type {IncomingMessage} from 'node:http'
import {TfsoptError} from '../errors.js'
import type {BodyLease} from './body-budget.js'
import type {BodyPool} from './body-pool.js'

export class BodyTooLarge extends TfsoptError {
  constructor(limit: number) {
    super('E_TOO_LARGE', `the request body is larger than --max-body-bytes (${limit} bytes); send a smaller batch or raise the limit`)
  }
}

const aborted = () => new TfsoptError('E_BAD_REQUEST', 'the client closed the connection before the request body was complete')

/** The body's declared length (Content-Length), or undefined when it is chunked. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const h = req.headers['content-length']
  return h === undefined ? undefined : Number(h)
}

/**
 * Reads the whole body, refusing (413) as soon as it passes `limit` — by the declared length before a
 * byte is read, else by the bytes actually received — so nothing beyond the limit is ever buffered. An
 * upload cut off by the client settles too (no request is left in flight, which would stall a drain).
 * A declared length is read into one buffer of that size (no second copy to join chunks), recycled from
 * `pool` when it is large (body-pool.ts). Without one,
 * `lease` grows with every chunk, and the body is refused (503) when the server-wide budget is full.
 */
export function readBody(req: IncomingMessage, limit: number, lease?: BodyLease, pool?: BodyPool): Promise<Buffer> {
  const declared = declaredLength(req)
  if (declared !== undefined && declared > limit) return Promise.reject(new BodyTooLarge(limit))
  return new Promise((resolve, reject) => {
    const st: BodyState = {limit, n: 0, first: undefined, chunks: undefined, whole: undefined, declared, lease, pool, resolve, reject}
    ;(req as ReqWithBody)[BODY] = st
    req.on('data', onBodyData)
    req.on('end', onBodyEnd)
    req.on('error', onBodyError)
    req.on('close', onBodyClose)
  })
}

// The body listeners are module-level functions (node calls them with `this` = the request) and keep
// their state on the request: no closures are created per request.
const BODY = Symbol('tfsopt.body')
interface BodyState {
  limit: number
  n: number
  first: Buffer | undefined
  chunks: Buffer[] | undefined
  /** The body's own buffer, when its length was declared. */
  whole: Buffer | undefined
  declared: number | undefined
  lease: BodyLease | undefined
  pool: BodyPool | undefined
  resolve(b: Buffer): void
  reject(e: Error): void
}
type ReqWithBody = IncomingMessage & {[BODY]?: BodyState}

function finishBody(req: ReqWithBody, err: Error | undefined): void {
  const st = req[BODY]
  if (!st) return
  // The listeners stay attached (removing four stream listeners per request costs more than leaving
  // them); with the state gone they do nothing, and the 'error' one still absorbs late errors.
  req[BODY] = undefined
  if (err) {
    // Stop buffering; node discards whatever else arrives, and the error answer closes the connection.
    req.resume()
    st.reject(err)
  } else if (st.whole) st.resolve(st.n === st.whole.length ? st.whole : st.whole.subarray(0, st.n))
  else st.resolve(st.chunks ? Buffer.concat(st.chunks, st.n) : (st.first ?? Buffer.alloc(0)))
}

function onBodyData(this: ReqWithBody, c: Buffer): void {
  const st = this[BODY]
  if (!st) return
  st.n += c.length
  if (st.n > st.limit) {
    finishBody(this, new BodyTooLarge(st.limit))
    return
  }
  if (st.declared !== undefined) {
    if (st.whole) c.copy(st.whole, st.n - c.length)
    else if (st.n === st.declared)
      st.first = c // the whole body in one chunk: keep it as it is
    else {
      st.whole = st.pool ? st.pool.take(st.declared) : Buffer.allocUnsafe(st.declared)
      c.copy(st.whole, 0)
    }
    return
  }
  if (st.lease && !st.lease.grow(c.length)) {
    finishBody(this, st.lease.refuse())
    return
  }
  if (!st.first) st.first = c
  else (st.chunks ??= [st.first]).push(c)
}

function onBodyEnd(this: ReqWithBody): void {
  finishBody(this, undefined)
}

function onBodyError(this: ReqWithBody, err: Error): void {
  finishBody(this, err)
}

function onBodyClose(this: ReqWithBody): void {
  // After a complete upload 'end' still follows; before it, the client went away mid-body.
  if (!this.complete) finishBody(this, aborted())
}

/** A body that is chunked or over 64 KiB: not worth reading only to throw it away. */
export function hasLargeBody(req: IncomingMessage): boolean {
  if (req.complete) return false
  const te = req.headers['transfer-encoding']
  return te !== undefined || Number(req.headers['content-length']) > 65_536
}
