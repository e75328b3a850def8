/**
 * A small HTTP/1.1 client over a raw TCP socket. fetch/undici would refuse to send most of what the
 * hostile corpus needs (bad header bytes, lying Content-Length, truncated or trickled bodies), and it
 * hides pipelining; here every byte on the wire is ours. Responses are parsed in order (the server
 * answers pipelined requests in order), framed by Content-Length or by the connection closing.
 */
import {connect, type Socket} from 'node:net'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

export interface RawRequest {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: Buffer | string
  /** Leave out Content-Length (e.g. for chunked bodies written by hand). */
  noContentLength?: boolean
}

/** The bytes of one request; Host and Content-Length are added unless given or refused. */
export function buildRequest(r: RawRequest): Buffer {
  const body = r.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8')
  const headers: Record<string, string> = {host: '127.0.0.1', ...r.headers}
  const lower = Object.keys(headers).map((k) => k.toLowerCase())
  if (!r.noContentLength && !lower.includes('content-length') && !lower.includes('transfer-encoding')) headers['content-length'] = String(body.length)
  let head = `${r.method ?? 'POST'} ${r.path} HTTP/1.1\r\n`
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body])
}

type Waiter = {resolve(r: RawResponse): void; reject(e: Error): void}

/** One keep-alive connection; `request` may be called many times without awaiting (pipelining). */
export class RawConnection {
  readonly socket: Socket
  private buf: Buffer = Buffer.alloc(0)
  private waiters: Waiter[] = []
  private closedErr: Error | undefined
  private readonly opened: Promise<void>

  constructor(port: number, host = '127.0.0.1') {
    this.socket = connect(port, host)
    this.socket.setNoDelay(true)
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve)
      this.socket.once('error', reject)
    })
    this.socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d
      this.parse(false)
    })
    this.socket.on('error', (e) => (this.closedErr ??= e))
    this.socket.on('close', () => {
      this.parse(true)
      this.closedErr ??= new Error('connection closed')
      for (const w of this.waiters.splice(0)) w.reject(this.closedErr)
    })
  }

  ready(): Promise<void> {
    return this.opened
  }

  get closed(): boolean {
    return this.socket.destroyed || this.closedErr !== undefined
  }

  /** Writes raw bytes (all or a piece of a request) without expecting an answer. */
  write(bytes: Buffer | string): boolean {
    return this.socket.write(bytes)
  }

  /** Waits for the next response on this connection, in order. */
  next(): Promise<RawResponse> {
    if (this.closedErr && !this.buf.length) return Promise.reject(this.closedErr)
    return new Promise((resolve, reject) => {
      this.waiters.push({resolve, reject})
      this.parse(this.socket.destroyed)
    })
  }

  request(r: RawRequest | Buffer): Promise<RawResponse> {
    const p = this.next()
    this.write(Buffer.isBuffer(r) ? r : buildRequest(r))
    return p
  }

  private parse(eof: boolean): void {
    while (this.waiters.length) {
      const end = this.buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n')
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN)
      const headers: Record<string, string> = {}
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':')
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
      }
      let body: Buffer
      const cl = headers['content-length']
      if (cl !== undefined) {
        const n = Number(cl)
        if (this.buf.length < end + 4 + n) return
        body = this.buf.subarray(end + 4, end + 4 + n)
        this.buf = this.buf.subarray(end + 4 + n)
      } else {
        // No length: the body runs to the end of the connection (Node's own error answers have none).
        if (!eof) return
        body = this.buf.subarray(end + 4)
        this.buf = Buffer.alloc(0)
      }
      this.waiters.shift()!.resolve({status, headers, body})
    }
  }

  close(): void {
    this.socket.destroy()
  }
}

/** Resolves with the first response on a fresh connection, or with an error once it closes. */
export async function once(port: number, r: RawRequest | Buffer, timeoutMs = 10_000): Promise<RawResponse> {
  const c = new RawConnection(port)
  const t = setTimeout(() => c.close(), timeoutMs)
  try {
    await c.ready()
    return await c.request(r)
  } finally {
    clearTimeout(t)
    c.close()
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Sends a request's bytes in `pieces` chunks `gapMs` apart (a slow upload), then awaits the answer. */
export async function slowUpload(port: number, bytes: Buffer, pieces: number, gapMs: number, timeoutMs = 20_000): Promise<RawResponse> {
  const c = new RawConnection(port)
  const t = setTimeout(() => c.close(), timeoutMs)
  try {
    await c.ready()
    const answer = c.next()
    answer.catch(() => {})
    const step = Math.ceil(bytes.length / pieces)
    for (let off = 0; off < bytes.length && !c.closed; off += step) {
      c.write(bytes.subarray(off, off + step))
      await sleep(gapMs)
    }
    return await answer
  } finally {
    clearTimeout(t)
    c.close()
  }
}

/** Sends the first `sent` bytes of a request, then drops the connection (an aborted upload). */
export async function abortedUpload(port: number, bytes: Buffer, sent: number, holdMs: number): Promise<void> {
  const c = new RawConnection(port)
  try {
    await c.ready()
    c.write(bytes.subarray(0, sent))
    await sleep(holdMs)
  } finally {
    c.socket.resetAndDestroy?.() ?? c.close()
  }
}
