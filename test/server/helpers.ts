/** Shared by the server tests: tiny real ONNX models built in a temp dir, and HTTP helpers. */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openSession} from '../../src/runtime/load.js'
import {mulberry32} from '../../src/stats/prng.js'
import type {Feeds, Tensor} from '../../src/runtime/types.js'
import {startServer, type ServerOptions} from '../../src/server/index.js'

export const tmp = (prefix = 'tfsopt-serve-') => mkdtempSync(join(tmpdir(), prefix))

export * from '../support/models.js'

export const quiet = () => {}

export async function serve(opts: ServerOptions) {
  return startServer({port: 0, device: 'cpu', workers: 1, intraOpThreads: 1, warmup: 0, pollSeconds: 0, log: quiet, ...opts})
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{status: number; json: any; text: string}> {
  return reply(
    await fetch(url, {
      method: 'POST',
      body: typeof body === 'string' || body instanceof Uint8Array ? (body as BodyInit) : JSON.stringify(body),
      headers: {'content-type': 'application/json', ...headers},
    }),
  )
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{status: number; json: any; text: string}> {
  return reply(await fetch(url, {headers}))
}

/** Status, text and the body parsed as JSON when it is JSON (undefined otherwise). */
async function reply(r: Response): Promise<{status: number; json: any; text: string}> {
  const text = await r.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: r.status, json, text}
}

/** Runs the model directly in the runtime (the reference the server's answers are compared with). */
export async function runDirect(path: string, feeds: Feeds): Promise<Record<string, Tensor>> {
  const s = await openSession(path, {device: 'cpu', intraOpThreads: 1})
  try {
    return await s.run(feeds)
  } finally {
    await s.dispose()
  }
}

export {metric} from '../support/metrics.js'

/** Deterministic pseudo-random floats in [0, 1). */
export function floats(n: number, seed = 1): number[] {
  const rand = mulberry32(seed)
  return Array.from({length: n}, rand)
}

/** Nests a flat list into the given shape. */
export function nest(flat: ArrayLike<number>, shape: number[]): unknown {
  let k = 0
  const walk = (d: number): unknown => (d === shape.length ? flat[k++] : Array.from({length: shape[d]!}, () => walk(d + 1)))
  return walk(0)
}
