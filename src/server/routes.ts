/** URL → route. Model names come only from this match and are looked up in a map, never used as paths. */
import {v2Route, type V2Route} from './kserve/v2-handler.js'
export type Route =
  | {kind: 'health'}
  | {kind: 'metrics'}
  | {kind: 'kill-worker'}
  | {kind: 'status' | 'metadata'; model: string; version?: number; label?: string}
  | {kind: 'predict'; model: string; version?: number; label?: string}
  | {kind: 'unsupported-method'; model: string; method: string}
  | {kind: 'v2'; v2: V2Route}
  | {kind: 'none'}

const MODEL = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+)|\/labels\/([^/:]+))?(\/metadata|:[A-Za-z]+)?\/?$/

export function route(pathname: string): Route {
  const v2 = v2Route(pathname)
  if (v2) return {kind: 'v2', v2}
  if (pathname === '/healthz') return {kind: 'health'}
  if (pathname === '/metrics' || pathname === '/monitoring/prometheus/metrics') return {kind: 'metrics'}
  if (pathname === '/v1/_test/kill-worker') return {kind: 'kill-worker'}
  const m = MODEL.exec(pathname)
  if (!m) return {kind: 'none'}
  let model: string
  try {
    model = decodeURIComponent(m[1]!)
  } catch {
    return {kind: 'none'}
  }
  const version = m[2] !== undefined ? (/^\d+$/.test(m[2]) ? Number(m[2]) : NaN) : undefined
  const label = m[3]
  const tail = m[4]
  const base = {model, version, label}
  if (!tail) return {kind: 'status', ...base}
  if (tail === '/metadata') return {kind: 'metadata', ...base}
  if (tail === ':predict') return {kind: 'predict', ...base}
  return {kind: 'unsupported-method', model, method: tail.slice(1)}
}
