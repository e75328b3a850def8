/**
 * --api-key / TFSOPT_API_KEY: every route but the health check needs `Authorization: Bearer <key>`.
 * Both sides are hashed before timingSafeEqual, so the comparison takes the same time whatever the
 * length or content of the presented token.
 */
import {createHash, timingSafeEqual} from 'node:crypto'

const digest = (s: string) => createHash('sha256').update(s).digest()

export function makeAuthCheck(apiKey: string | undefined): (header: string | undefined) => boolean {
  if (!apiKey) return () => true
  const want = digest(apiKey)
  return (header) => {
    const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
    // Hash something even when the header is absent, so absence is not faster than a wrong key.
    const got = digest(m ? m[1]!.trim() : '\0')
    return timingSafeEqual(got, want) && m !== null
  }
}
