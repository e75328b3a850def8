/**
 * The byte encoder against the reference: JsonWriter.float32 gives number-format.ts's formatFloat32 text
 * for every float32 tried (random bit patterns and edge cases), and encodePredictBytes gives
 * encodePredict's text for every dtype, shape and format.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import type {DType} from '../../src/models/dtypes.js'
import type {Tensor} from '../../src/runtime/types.js'
import {mulberry32} from '../../src/stats/prng.js'
import {JsonWriter} from '../../src/server/json-writer.js'
import {formatFloat32} from '../../src/server/number-format.js'
import {encodePredict} from '../../src/server/predict-codec.js'
import {encodePredictBytes} from '../../src/server/predict-encode.js'
import {BodyPool} from '../../src/server/body-pool.js'

const rand = mulberry32(7)

/** Edge cases: ±0, subnormals, extremes, powers of ten and their float32 neighbours, 6/9-digit boundaries. */
function edgeCases(): Float32Array {
  const xs: number[] = [0, -0, 1, -1, 1.401298464324817e-45, 1.1754942106924411e-38, 1.1754943508222875e-38, 3.4028234663852886e38, 0.1, 0.5, 1 / 3]
  const f = new Float32Array(1)
  const u = new Uint32Array(f.buffer)
  const around = (x: number) => {
    f[0] = x
    const b = u[0]!
    for (let d = -3; d <= 3; d++) {
      u[0] = b + d
      xs.push(f[0]!, -f[0]!)
    }
  }
  for (let e = -45; e <= 38; e++) {
    around(10 ** e)
    around(9.99999 * 10 ** e)
    around(9.999995 * 10 ** e)
    around(1.000005 * 10 ** e)
    around(999999.5 * 10 ** (e - 6))
    around(1.5 * 10 ** e)
    around(2.5e-7 * 10 ** e)
  }
  for (let e = 0; e < 24; e++) around(2 ** e + 0.5)
  return new Float32Array(xs)
}

test('float32 formatter: the reference text on 1M random bit patterns and every edge case', () => {
  const n = 1_000_000
  const bits = new Uint32Array(n)
  for (let i = 0; i < n; i++) bits[i] = (rand() * 2 ** 32) >>> 0
  const all = [new Float32Array(bits.buffer), edgeCases()]
  const w = new JsonWriter(64)
  let checked = 0
  for (const f of all) {
    for (let i = 0; i < f.length; i++) {
      const v = f[i]!
      w.pos = 0
      w.float32(v)
      const got = Buffer.from(w.buf.buffer, 0, w.pos).toString('latin1')
      const want = formatFloat32(v)
      if (got !== want) assert.fail(`float32 ${v} (bits ${new Uint32Array(new Float32Array([v]).buffer)[0]}): wrote ${got}, reference ${want}`)
      // The contract itself: the text parses back to the very float32.
      if (!Number.isNaN(v) && !Object.is(Math.fround(Number(got)), v)) assert.fail(`${got} does not parse back to ${v}`)
      checked++
    }
  }
  assert.ok(checked > n)
})

function randomTensor(dtype: DType, dims: number[]): Tensor {
  const n = dims.reduce((a, b) => a * b, 1)
  const num = () => (rand() - 0.5) * 10 ** Math.floor(rand() * 10 - 5)
  let data: Tensor['data']
  switch (dtype) {
    case 'float32':
      data = Float32Array.from({length: n}, () => pickSpecial() ?? num())
      break
    case 'float64':
      data = Float64Array.from({length: n}, () => pickSpecial() ?? num())
      break
    case 'int64':
      data = BigInt64Array.from({length: n}, () => BigInt(Math.round(num() * 1e6)) * 12345678901n)
      break
    case 'string':
      data = Array.from({length: n}, (_, i) => (i % 2 ? 'héllo "q"' : `s${i}`))
      break
    case 'bool':
      data = Uint8Array.from({length: n}, () => (rand() < 0.5 ? 1 : 0))
      break
    default:
      data = Int32Array.from({length: n}, () => Math.round(num()))
  }
  return {dtype, dims, data}
}

const pickSpecial = () => {
  const r = rand()
  return r < 0.02 ? NaN : r < 0.04 ? -Infinity : r < 0.06 ? -0 : undefined
}

test("encodePredictBytes writes encodePredict's text for every dtype, shape and format", () => {
  const dtypes: DType[] = ['float32', 'float64', 'int64', 'string', 'bool', 'int32']
  for (let c = 0; c < 400; c++) {
    const rows = Math.floor(rand() * 3) + (c % 10 === 0 ? 0 : 1)
    const nOut = 1 + Math.floor(rand() * 3)
    const outputs: Record<string, Tensor> = {}
    const order: string[] = []
    for (let o = 0; o < nOut; o++) {
      const inner = Array.from({length: Math.floor(rand() * 3)}, () => Math.floor(rand() * 4))
      const name = o === 1 ? 'text_bytes' : `out${o}`
      outputs[name] = randomTensor(dtypes[Math.floor(rand() * dtypes.length)]!, [rows, ...inner])
      order.push(name)
    }
    if (rand() < 0.2) order.reverse()
    for (const format of ['row', 'columnar'] as const) {
      let want: string | Error
      try {
        want = encodePredict(format, outputs, order)
      } catch (err) {
        want = err as Error
      }
      if (want instanceof Error) assert.throws(() => encodePredictBytes(format, outputs, order), {message: want.message})
      else assert.equal(encodePredictBytes(format, outputs, order).toString('utf8'), want)
    }
  }
  // Scalars and 0-d outputs in columnar form.
  const scalar = {s: {dtype: 'float32', dims: [], data: new Float32Array([0.25])} as Tensor}
  assert.equal(encodePredictBytes('columnar', scalar, ['s']).toString(), encodePredict('columnar', scalar, ['s']))
})

test('a float32 answer of the longest values fits the buffer it starts in, written into a recycled buffer exactly', () => {
  // -0.00000123456789 and its neighbours: 17 characters plus a comma, the longest a float32 takes; in
  // [N, 1] every value is also a list of its own (3 bytes more each).
  const n = 70_000
  const f = new Float32Array(n)
  for (let i = 0; i < n; i++) f[i] = -1.23456789e-6 * (1 + (i % 97) * 1e-3)
  const outputs = {y: {dtype: 'float32', dims: [n, 1], data: f} as Tensor}
  const pool = new BodyPool()
  try {
    for (const format of ['columnar', 'row'] as const) {
      const want = encodePredict(format, outputs, ['y'])
      const first = encodePredictBytes(format, outputs, ['y'], pool)
      assert.equal(first.toString('utf8'), want)
      assert.ok(pool.owns(first), `${format}: the answer grew out of its recycled buffer`)
      pool.give(first)
      // Written again over the recycled bytes: the same text, nothing of the last answer left in it.
      const again = encodePredictBytes(format, outputs, ['y'], pool)
      assert.equal(again.buffer, first.buffer)
      assert.equal(again.toString('utf8'), want)
      pool.give(again)
    }
  } finally {
    pool.close()
  }
})
