/**
 * The byte-level predict decoder against the reference (JSON.parse path: json-body + predict-codec):
 * on every body it either declines (the server then uses the reference), or gives exactly the
 * reference's tensors, or throws exactly the reference's error.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {TfsoptError} from '../../src/errors.js'
import type {DType, TensorInfo} from '../../src/models/dtypes.js'
import type {Tensor} from '../../src/runtime/types.js'
import {mulberry32} from '../../src/stats/prng.js'
import {parseJsonBody} from '../../src/server/json-body.js'
import {decodePredictBytes} from '../../src/server/predict-bytes.js'
import {decodePredict} from '../../src/server/predict-codec.js'

type Outcome = {ok: true; value: ReturnType<typeof decodePredict>} | {ok: false; message: string}

function reference(text: string, inputs: TensorInfo[]): Outcome {
  try {
    return {ok: true, value: decodePredict(parseJsonBody(text), inputs)}
  } catch (err) {
    if (!(err instanceof TfsoptError)) throw err
    return {ok: false, message: err.message}
  }
}

function fast(text: string, inputs: TensorInfo[]): Outcome | undefined {
  try {
    const v = decodePredictBytes(Buffer.from(text), inputs)
    return v && {ok: true, value: v}
  } catch (err) {
    if (!(err instanceof TfsoptError)) throw err
    return {ok: false, message: err.message}
  }
}

/** Same dtype, dims and bytes (so NaN payloads aside, -0 and every float bit count). */
function sameTensor(a: Tensor, b: Tensor, where: string): void {
  assert.equal(a.dtype, b.dtype, where)
  assert.deepEqual(a.dims, b.dims, where)
  assert.equal(a.data.length, b.data.length, where)
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]
    const y = b.data[i]
    if (typeof x === 'number' && Number.isNaN(x)) assert.ok(Number.isNaN(y as number), where)
    else assert.ok(Object.is(x, y), `${where}[${i}]: ${String(x)} vs ${String(y)}`)
  }
}

/** Checks one body; returns whether the fast decoder took it. */
function check(text: string, inputs: TensorInfo[]): boolean {
  const f = fast(text, inputs)
  if (f === undefined) return false
  const r = reference(text, inputs)
  const where = `body ${JSON.stringify(text.slice(0, 200))}`
  assert.equal(f.ok, r.ok, `${where}: fast ${JSON.stringify(f.ok ? 'ok' : f.message)} vs reference ${JSON.stringify(r.ok ? 'ok' : r.message)}`)
  if (!f.ok || !r.ok) {
    assert.equal((f as {message: string}).message, (r as {message: string}).message, where)
    return true
  }
  assert.equal(f.value.format, r.value.format, where)
  assert.equal(f.value.signature, r.value.signature, where)
  assert.deepEqual(Object.keys(f.value.feeds), Object.keys(r.value.feeds), where)
  for (const k of Object.keys(r.value.feeds)) sameTensor(f.value.feeds[k]!, r.value.feeds[k]!, `${where} input ${k}`)
  return true
}

const rand = mulberry32(20261202)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!

/** A number as clients write it: numpy tolist() of float32 (17 digits), 6 digits, integers, exponents, literals. */
function numberText(dtype: DType): string {
  const x = (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 6)
  switch (dtype) {
    case 'bool':
      return pick(['true', 'false', 'true', 'false', '1', 'null'])
    case 'float32':
    case 'float64':
      return pick([
        String(Math.fround(x)),
        x.toPrecision(6),
        x.toPrecision(17),
        String(Math.round(x * 1000)),
        x.toExponential(4),
        x.toExponential(4).toUpperCase(),
        'NaN',
        'Infinity',
        '-Infinity',
        '-0',
        '0.0',
        String(x),
      ])
    case 'int64':
    case 'uint64':
      return pick(['9007199254740993', '-9223372036854775808', '18446744073709551615', '12', '-3', '1.0', '0', '123456789012345678901', '1e3'])
    default:
      return pick(['0', '1', '-1', '127', '128', '255', '256', '-129', '65535', '2147483647', '4294967295', '4294967296', '3.0', '2.5', '1e2', '-0'])
  }
}

function tensorText(dims: number[], dtype: DType, ws: () => string): string {
  const walk = (d: number): string =>
    d === dims.length ? numberText(dtype) : `[${ws()}${Array.from({length: dims[d]!}, () => walk(d + 1)).join(`${ws()},${ws()}`)}${ws()}]`
  return walk(0)
}

const BAD_TOKENS = ['01', '1.', '.5', '+1', '1e', '--1', 'nul', '"1"', '{}', '[]', '1 2', 'NaNx', '-NaN', 'Infinit', '0x10', '1e+', '٣']

/** Small random edits: a byte changed, dropped, duplicated, or the body cut. */
function mutate(text: string): string {
  const i = Math.floor(rand() * text.length)
  switch (Math.floor(rand() * 5)) {
    case 0:
      return text.slice(0, i) + pick([',', ']', '[', '"', '}', '{', ' ', '-', 'e', '.', '0', 'N']) + text.slice(i + 1)
    case 1:
      return text.slice(0, i) + text.slice(i + 1)
    case 2:
      return text.slice(0, i) + text[i] + text.slice(i)
    case 3:
      return text.slice(0, i)
    default: {
      // a leaf replaced by a bad token
      const m = /-?\d[\d.eE+-]*/g
      const hits = [...text.matchAll(m)]
      if (!hits.length) return text
      const h = pick(hits)
      return text.slice(0, h.index) + pick(BAD_TOKENS) + text.slice(h.index! + h[0].length)
    }
  }
}

const DTYPES: DType[] = ['float32', 'float64', 'bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']

test('byte decoder: same tensors or the same 400 as the JSON.parse path, on thousands of generated and mutated bodies', () => {
  let taken = 0
  let takenValid = 0
  let total = 0
  for (let c = 0; c < 6000; c++) {
    const dtype = pick(DTYPES)
    const rank = 1 + Math.floor(rand() * 3)
    const dims = Array.from({length: rank}, () => 1 + Math.floor(rand() * 3))
    const shape = pick([dims.map((d, i) => (i === 0 ? -1 : d)), dims, dims.map(() => -1), [...dims, 1], null])
    const twoInputs = rand() < 0.25
    const inputs: TensorInfo[] = twoInputs
      ? [
          {name: 'a', dtype, shape},
          {name: 'b', dtype: 'float32', shape: [-1]},
        ]
      : [{name: 'x', dtype, shape}]
    const ws = () => pick(['', '', '', ' ', '\n ', '\t'])
    const sig = pick(['', '', `"signature_name":"serving_default",`, `"signature_name":"other",`, `"signature_name":"",`, `"signature_name":3,`])
    let text: string
    if (twoInputs) {
      const a = tensorText(dims, dtype, ws)
      const b = tensorText([dims[0]!], 'float32', ws)
      text = pick([
        `{${sig}"inputs":{"a":${a},${ws()}"b":${b}}}`,
        `{"inputs":{"b":${b},"a":${a}},${sig.slice(0, -1) || '"x":1'}}`,
        `{${sig}"inputs":{"a":${a}}}`,
      ])
    } else {
      const t = tensorText(dims, dtype, ws)
      text = pick([
        `{${sig}"inputs":${t}}`,
        `{${sig}${ws()}"instances"${ws()}:${ws()}${t}${ws()}}`,
        `{"inputs":{"x":${t}}}`,
        `{"inputs":{"y":${t}}}`,
        `{"instances":${t},"inputs":${t}}`,
        `{"inputs":${t},"inputs":${t}}`,
        ` {"inputs":${t}} `,
        `{"inputs":${t}}x`,
      ])
    }
    const valid = reference(text, inputs).ok
    if (check(text, inputs)) {
      taken++
      if (valid) takenValid++
    }
    total++
    for (let m = 0; m < 3; m++) {
      if (check(mutate(text), inputs)) taken++
      total++
    }
  }
  // The decoder must actually carry the hot path, not decline everything.
  assert.ok(takenValid > 500, `fast path took ${takenValid} valid bodies`)
  assert.ok(taken > total / 20, `fast path took ${taken} of ${total} bodies`)
})

test('byte decoder: 17-digit and short floats into float32 and float64 match JSON.parse (+ Float32Array) on 400k values', () => {
  const n = 400_000
  const parts: string[] = new Array(n)
  const bits = new Uint32Array(1)
  const f = new Float32Array(bits.buffer)
  for (let i = 0; i < n; i++) {
    const kind = i % 4
    if (kind === 0) {
      bits[0] = (rand() * 2 ** 32) >>> 0 // any float32 bit pattern, subnormals included
      parts[i] = Number.isFinite(f[0]!) ? String(f[0]!) : '0'
    } else if (kind === 1) parts[i] = (rand() * 2 - 1).toPrecision(17)
    else if (kind === 2) parts[i] = (rand() * 1000).toPrecision(1 + Math.floor(rand() * 19))
    else parts[i] = `${(rand() * 10).toFixed(Math.floor(rand() * 25))}e${Math.floor(rand() * 80) - 40}`
  }
  const text = `{"inputs":[${parts.join(',')}]}`
  const got = decodePredictBytes(Buffer.from(text), [{name: 'x', dtype: 'float32', shape: [-1]}])
  assert.ok(got, 'the fast path takes a plain float list')
  const data = got.feeds.x!.data as Float32Array
  const want = new Float32Array(parts.map(Number))
  let bad = 0
  for (let i = 0; i < n; i++) if (!Object.is(data[i], want[i]) && bad++ < 5) assert.fail(`${parts[i]} → ${data[i]}, JSON.parse gives ${want[i]}`)
  // The same text into float64: the fast path must give the correctly rounded double (JSON.parse's).
  const got64 = decodePredictBytes(Buffer.from(text), [{name: 'x', dtype: 'float64', shape: [-1]}])
  assert.ok(got64, 'the fast path takes a plain float list as float64 too')
  const data64 = got64.feeds.x!.data as Float64Array
  for (let i = 0; i < n; i++)
    if (!Object.is(data64[i], Number(parts[i]))) assert.fail(`float64: ${parts[i]} → ${data64[i]}, JSON.parse gives ${Number(parts[i])}`)
})

test('byte decoder: a shape the model refuses is refused without allocating the tensor, with the reference message', () => {
  const inputs: TensorInfo[] = [{name: 'x', dtype: 'float32', shape: [1, 3, 4, 4]}]
  const text = `{"inputs":[${Array.from({length: 1000}, (_, i) => i / 7).join(',')}]}`
  const f = fast(text, inputs)
  const r = reference(text, inputs)
  assert.ok(f && !f.ok && !r.ok)
  assert.equal(f.message, r.message)
  assert.match(f.message, /shape \[1000\]/)
})
