/**
 * Control-plane calls to a TF-Serving-compatible REST target: model status, metadata, metrics. These are
 * few and not timed, so plain fetch is fine (the measured traffic goes through the load generators).
 */
import {TfsoptError, errorMessage} from '../errors.js'
import {parseSignature, type SignatureInput} from './signature.js'

export async function getJson(url: string, timeoutMs = 5000): Promise<{status: number; body: unknown}> {
  const res = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    /* not JSON: keep the text */
  }
  return {status: res.status, body}
}

export async function getText(url: string, timeoutMs = 5000): Promise<{status: number; text: string}> {
  const res = await fetch(url, {signal: AbortSignal.timeout(timeoutMs)})
  return {status: res.status, text: await res.text()}
}

/** The model's state from GET /v1/models/{m}: AVAILABLE when any version is. */
export async function modelState(base: string, model: string): Promise<string> {
  const {status, body} = await getJson(`${base}/v1/models/${encodeURIComponent(model)}`)
  if (status === 404) return 'NOT_FOUND'
  const states = ((body as {model_version_status?: Array<{state?: string}>})?.model_version_status ?? []).map((v) => v.state)
  return states.includes('AVAILABLE') ? 'AVAILABLE' : (states[0] ?? `HTTP ${status}`)
}

/** Polls until the model is AVAILABLE; an unreachable target or a timeout is E_UNAVAILABLE (exit 1). */
export async function waitAvailable(base: string, model: string, timeoutMs = 30_000, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'unreachable'
  while (Date.now() < deadline && alive()) {
    try {
      last = await modelState(base, model)
      if (last === 'AVAILABLE') return
      if (last === 'NOT_FOUND') throw new TfsoptError('E_NOT_FOUND', `${base} serves no model named "${model}" (give --model-name)`)
    } catch (err) {
      if (err instanceof TfsoptError) throw err
      last = `unreachable (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new TfsoptError('E_UNAVAILABLE', `model "${model}" at ${base} is not AVAILABLE (last state: ${last})`)
}

export async function fetchSignature(base: string, model: string): Promise<SignatureInput[]> {
  try {
    const {status, body} = await getJson(`${base}/v1/models/${encodeURIComponent(model)}/metadata`)
    return status === 200 ? parseSignature(body) : []
  } catch {
    return []
  }
}

/** Checks that one request succeeds before any measuring, so a bad body fails fast with the server's word. */
export async function probePredict(base: string, model: string, body: string): Promise<void> {
  let res: Response
  try {
    res = await fetch(`${base}/v1/models/${encodeURIComponent(model)}:predict`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body,
      signal: AbortSignal.timeout(30_000),
    })
  } catch (err) {
    // A raw "TypeError: fetch failed" says nothing: name the target and the cause (reset, refused, timeout).
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : errorMessage(err)
    throw new TfsoptError('E_UNAVAILABLE', `the probe :predict request to ${base} failed: ${cause}`)
  }
  if (res.status >= 300) {
    const text = (await res.text()).slice(0, 300)
    throw new TfsoptError('E_DATA', `a probe :predict request failed with HTTP ${res.status}: ${text}`)
  }
  await res.arrayBuffer()
}
