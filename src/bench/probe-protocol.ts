/**
 * One request in the protocol a point will measure, before any measuring: a target that does not speak
 * it (no gRPC port, no v2 endpoints, a body it refuses) fails fast with the server's own word instead
 * of as a point full of errors.
 */
import {Metadata, type ServiceError} from '@grpc/grpc-js'
import {TfsoptError, errorMessage} from '../errors.js'
import {predictionClient} from '../server/grpc/client.js'
import type {ProtocolRequests} from './protocol-requests.js'

const PROBE_TIMEOUT_MS = 30_000

export async function probeProtocol(reqs: ProtocolRequests, where: {url: string; grpcTarget?: string}, protocol: string): Promise<void> {
  if (reqs.kind === 'http') {
    const r = reqs.http.next()
    let res: Response
    try {
      res = await fetch(new URL(reqs.http.path, where.url), {
        method: 'POST',
        headers: r.headers,
        body: typeof r.body === 'string' ? r.body : new Uint8Array(r.body),
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      })
    } catch (err) {
      const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : errorMessage(err)
      throw new TfsoptError('E_UNAVAILABLE', `the probe ${protocol} request to ${where.url}${reqs.http.path} failed: ${cause}`)
    }
    if (res.status >= 300) throw new TfsoptError('E_DATA', `a probe ${protocol} request failed with HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`)
    await res.arrayBuffer()
    return
  }
  const target = where.grpcTarget
  if (!target) throw new TfsoptError('E_UNAVAILABLE', `--protocol ${protocol} needs a gRPC target, and the server reported none`)
  const client = predictionClient(target)
  try {
    const err = await new Promise<ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        reqs.method,
        (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        (b: Buffer) => b,
        reqs.grpc.next(),
        new Metadata(),
        {deadline: Date.now() + PROBE_TIMEOUT_MS},
        (e) => resolve(e),
      ),
    )
    if (err) {
      const code = err.code === 14 ? 'E_UNAVAILABLE' : 'E_DATA'
      throw new TfsoptError(code, `a probe ${protocol} call to ${target} failed: ${err.details || err.message}`)
    }
  } finally {
    client.close()
  }
}
