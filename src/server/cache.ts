/**
 * Response cache: LRU over successful results, keyed by a hash of model, version, signature and the
 * canonical bytes of every input (name, dtype, dims, data, in name order — so JSON and binary requests
 * with the same tensors share an entry). Bounded by entries and by bytes; a model's entries are dropped
 * when its served version changes. A Map keeps insertion order, which is the LRU order here.
 */
import {createHash} from 'node:crypto'
import type {Feeds, Tensor} from '../runtime/types.js'

export interface CacheHooks {
  onEvict(model: string, version: number): void
  onSize(entries: number, bytes: number): void
}

interface Entry {
  model: string
  version: number
  outputs: Record<string, Tensor>
  bytes: number
}

export function cacheKey(model: string, version: number, signature: string, feeds: Feeds): string {
  const h = createHash('sha256')
  h.update(`${model}\0${version}\0${signature}`)
  for (const name of Object.keys(feeds).sort()) {
    const t = feeds[name]!
    h.update(`\0${name}\0${t.dtype}\0${t.dims.join(',')}\0`)
    if (Array.isArray(t.data)) for (const s of t.data) h.update(`${s.length}:${s}`)
    else h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
  }
  return h.digest('base64')
}

function sizeOf(outputs: Record<string, Tensor>): number {
  let n = 0
  for (const t of Object.values(outputs)) n += Array.isArray(t.data) ? t.data.reduce((s, x) => s + x.length * 2, 0) : t.data.byteLength
  return n + 256
}

/** Own copies, so a cached entry never pins (or shares) a whole batch's output buffer. */
function copy(outputs: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {}
  for (const [k, t] of Object.entries(outputs)) out[k] = {dtype: t.dtype, dims: [...t.dims], data: t.data.slice() as Tensor['data']}
  return out
}

export class ResponseCache {
  private map = new Map<string, Entry>()
  private bytes = 0
  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
    private readonly hooks: CacheHooks,
  ) {}

  get enabled(): boolean {
    return this.maxEntries > 0 && this.maxBytes > 0
  }

  get(key: string): Record<string, Tensor> | undefined {
    const e = this.map.get(key)
    if (!e) return undefined
    this.map.delete(key)
    this.map.set(key, e)
    return e.outputs
  }

  set(key: string, model: string, version: number, outputs: Record<string, Tensor>): void {
    const bytes = sizeOf(outputs)
    if (bytes > this.maxBytes) return
    const old = this.map.get(key)
    if (old) this.remove(key, old)
    this.map.set(key, {model, version, outputs: copy(outputs), bytes})
    this.bytes += bytes
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const [k, e] = this.map.entries().next().value as [string, Entry]
      this.remove(k, e)
      this.hooks.onEvict(e.model, e.version)
    }
    this.hooks.onSize(this.map.size, this.bytes)
  }

  private remove(key: string, e: Entry): void {
    this.map.delete(key)
    this.bytes -= e.bytes
  }

  /** Drops every entry of a model (its served version changed). */
  clearModel(model: string): number {
    let n = 0
    for (const [k, e] of this.map)
      if (e.model === model) {
        this.remove(k, e)
        n++
      }
    this.hooks.onSize(this.map.size, this.bytes)
    return n
  }

  get size(): {entries: number; bytes: number} {
    return {entries: this.map.size, bytes: this.bytes}
  }
}
