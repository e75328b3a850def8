/**
 * Request bodies for :predict. Each sample is pre-serialised once as a JSON instance, so the load
 * generator only concatenates strings per request (JSON.stringify of a 784-float image per request
 * would cost the generator the CPU the server needs on a 2-core machine).
 *
 * Cache control (--repeat-ratio r): with probability r a request repeats, byte for byte, one body from a
 * small hot set of earlier bodies; otherwise it is a fresh body never sent before. The server's cache
 * hit ratio is then ≈ r by construction, not luck. Fresh bodies stay unique beyond the data set's size by
 * nudging the first float of the first instance by pass × 2⁻¹⁰ (exact in float32); integer inputs are
 * left alone, so with them uniqueness is bounded by the data set (reported as uniqueInputs).
 */
import {loadDataset, type Dataset} from '../data/dataset.js'
import {dataError} from '../errors.js'
import {mulberry32} from '../stats/prng.js'
import type {SignatureInput} from './signature.js'

export interface Sample {
  /** JSON of one instance, split around its first number so fresh copies can nudge it cheaply. */
  head: string
  first: number
  tail: string
  float: boolean
}

export interface BodySourceInfo {
  origin: 'data' | 'signature'
  source?: string
  samples: number
  clientBatch: number
  repeatRatio: number
  hotSet: number
  uniqueInputs: number | 'unbounded'
}

export const HOT_SET = 16

function nested(data: ArrayLike<number | bigint | string>, offset: number, dims: number[]): unknown {
  if (dims.length === 0) {
    const v = data[offset]
    return typeof v === 'bigint' ? Number(v) : v
  }
  const [d, ...rest] = dims
  const stride = rest.reduce((a, b) => a * b, 1)
  const out: unknown[] = []
  for (let i = 0; i < d!; i++) out.push(nested(data, offset + i * stride, rest))
  return out
}

export function splitSample(json: string, float: boolean): Sample {
  const m = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(json)
  if (!m) return {head: json, first: NaN, tail: '', float: false}
  return {head: json.slice(0, m.index), first: Number(m[0]), tail: json.slice(m.index + m[0].length), float}
}

/** Instances from a data file, reshaped to the signature's per-instance dims when they are known and agree. */
export function samplesFromDataset(ds: Dataset, sig: SignatureInput[] = []): Sample[] {
  const names = Object.keys(ds.inputs)
  const out: Sample[] = []
  for (let i = 0; i < ds.count; i++) {
    const values: Record<string, unknown> = {}
    let float = true
    names.forEach((name, k) => {
      const t = ds.inputs[name]!
      let inner = t.dims.slice(1)
      const s = sig.find((x) => x.name === name) ?? (names.length === 1 && sig.length === 1 ? sig[0] : sig[k])
      const sigInner = s?.dims.slice(1)
      const size = inner.reduce((a, b) => a * b, 1)
      if (sigInner?.every((d) => d > 0) && sigInner.reduce((a, b) => a * b, 1) === size) inner = sigInner
      if (k === 0) float = t.dtype.startsWith('float')
      values[s?.name ?? name] = nested(t.data as ArrayLike<number>, i * size, inner)
    })
    const keys = Object.keys(values)
    const instance = keys.length === 1 ? values[keys[0]!] : values
    out.push(splitSample(JSON.stringify(instance), float))
  }
  return out
}

/** Synthetic instances from the signature: uniform floats in [0,1), small ints for integer inputs. */
export function samplesFromSignature(sig: SignatureInput[], count = 64, seed = 7): Sample[] {
  if (!sig.length) throw dataError('the model publishes no input signature; give request data with --data')
  const bad = sig.find((s) => s.dtype === 'DT_STRING')
  if (bad) throw dataError(`input ${bad.name} is a string tensor; generated bodies cannot fill it, give --data`)
  const rand = mulberry32(seed)
  const out: Sample[] = []
  for (let i = 0; i < count; i++) {
    const values: Record<string, unknown> = {}
    for (const s of sig) {
      // Unknown non-batch dims become 1: the smallest request the model accepts.
      const inner = s.dims.slice(1).map((d) => (d > 0 ? d : 1))
      const isFloat = /FLOAT|DOUBLE|HALF|BFLOAT/.test(s.dtype)
      const n = inner.reduce((a, b) => a * b, 1)
      const flat = Array.from({length: n}, () => (isFloat ? Math.round(rand() * 1e4) / 1e4 : Math.floor(rand() * 10)))
      values[s.name] = nested(flat, 0, inner)
    }
    const instance = sig.length === 1 ? values[sig[0]!.name] : values
    out.push(splitSample(JSON.stringify(instance), /FLOAT|DOUBLE|HALF|BFLOAT/.test(sig[0]!.dtype)))
  }
  return out
}

export function loadSamples(dataPath: string | undefined, sig: SignatureInput[]): {samples: Sample[]; origin: 'data' | 'signature'; source?: string} {
  if (dataPath) return {samples: samplesFromDataset(loadDataset(dataPath), sig), origin: 'data', source: dataPath}
  return {samples: samplesFromSignature(sig), origin: 'signature'}
}

export class BodySource {
  private fresh = 0
  private readonly hot: string[] = []
  private readonly rand: () => number
  private readonly samples: Sample[]
  readonly clientBatch: number
  readonly repeatRatio: number
  repeats = 0
  total = 0

  /**
   * `freshStart`: where this source's sequence of fresh bodies begins. Points measured one after another on
   * the same server must not reuse each other's "fresh" bodies, or the server's cache (which outlives a
   * point) answers them: the engine passes the previous source's `freshEnd`.
   */
  constructor(samples: Sample[], opts: {clientBatch: number; repeatRatio: number; seed?: number; freshStart?: number}) {
    if (!samples.length) throw dataError('no request samples')
    if (!(opts.clientBatch >= 1)) throw dataError('client batch must be at least 1')
    if (!(opts.repeatRatio >= 0 && opts.repeatRatio <= 1)) throw dataError('repeat ratio must lie in [0, 1]')
    this.samples = samples
    this.clientBatch = opts.clientBatch
    this.repeatRatio = opts.repeatRatio
    this.rand = mulberry32(opts.seed ?? 42)
    this.fresh = opts.freshStart ?? 0
  }

  /** The index the next fresh body would use: pass it as the next source's `freshStart`. */
  get freshEnd(): number {
    return this.fresh
  }

  /** The next request body: a repeat of a hot body with probability repeatRatio, else a fresh one. */
  next(): string {
    this.total++
    if (this.hot.length > 0 && this.repeatRatio > 0 && this.rand() < this.repeatRatio) {
      this.repeats++
      return this.hot[Math.floor(this.rand() * this.hot.length)]!
    }
    const body = this.freshBody()
    if (this.hot.length < HOT_SET) this.hot.push(body)
    return body
  }

  private freshBody(): string {
    const parts: string[] = []
    for (let j = 0; j < this.clientBatch; j++) {
      const k = this.fresh++
      const s = this.samples[k % this.samples.length]!
      const pass = Math.floor(k / this.samples.length)
      // Nudge only the first instance of the body: enough to make the body (the cache key) unique.
      const first = j === 0 && pass > 0 && s.float ? s.first + pass * 2 ** -10 : s.first
      parts.push(Number.isNaN(s.first) ? s.head : s.head + String(first) + s.tail)
    }
    return `{"instances":[${parts.join(',')}]}`
  }

  info(origin: 'data' | 'signature', source?: string): BodySourceInfo {
    const s0 = this.samples[0]!
    return {
      origin,
      source,
      samples: this.samples.length,
      clientBatch: this.clientBatch,
      repeatRatio: this.repeatRatio,
      hotSet: HOT_SET,
      uniqueInputs: s0.float ? 'unbounded' : this.samples.length,
    }
  }
}
