/** Writing answers: JSON and binary bodies, `{"error": ...}` replies, and answers to broken HTTP. */
import type {ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {TfsoptError} from '../errors.js'

export const JSON_TYPE = 'application/json'

export const notAllowed = (method: string | undefined, want: string) =>
  new TfsoptError('E_BAD_REQUEST', `${method} is not allowed here; use ${want}`, {status: 405})

const JSON_HEADERS = (len: number) => ({'content-type': JSON_TYPE, 'content-length': len})

export function send(res: ServerResponse, status: number, body: string | Buffer, type = JSON_TYPE, extra?: Record<string, string>): void {
  const len = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  if (extra) res.writeHead(status, {'content-type': type, 'content-length': len, ...extra})
  else if (type === JSON_TYPE) res.writeHead(status, JSON_HEADERS(len))
  else res.writeHead(status, {'content-type': type, 'content-length': len})
  res.end(body)
}

export const sendError = (res: ServerResponse, status: number, message: string, extra?: Record<string, string>) =>
  send(res, status, JSON.stringify({error: message}), JSON_TYPE, extra)

/**
 * Broken HTTP (bad framing, Content-Length with Transfer-Encoding, oversized headers, timeouts) never
 * reaches a handler; node would answer it with a bodiless 400. Answer as every other error does, with
 * {"error": ...}, then close — mirroring node's own rule of writing only when nothing of a response has
 * gone out on the socket yet.
 */
export function onClientError(err: Error & {code?: string}, socket: Duplex): void {
  const inFlight = (socket as Duplex & {_httpMessage?: {headersSent?: boolean}})._httpMessage
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy()
    return
  }
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are larger than the server accepts (16 KiB)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request was not received in time; send headers and body without long pauses']
        : [400, 'Bad Request', `malformed HTTP request (${err.code ?? 'parse error'}); send a well-formed HTTP/1.1 request`]
  const body = JSON.stringify({error: message})
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
  socket.once('finish', () => socket.destroy()) // the answer is out: stop reading whatever else comes
}
