import {test} from 'node:test'
import assert from 'node:assert/strict'
import {parseJsonBody, rewriteSpecials} from '../../src/server/json-body.js'
import {formatFloat32, formatFloat64} from '../../src/server/number-format.js'
import {decodeTensor, encodeTensor} from '../../src/server/tensor-json.js'
import {decodePredict, encodePredict} from '../../src/server/predict-codec.js'
import {decodeBinary, encodeBinary} from '../../src/server/binary-codec.js'
import {resolveBatching} from '../../src/server/batching-config.js'
import {concatFeeds, sliceRows} from '../../src/server/batcher.js'
import {TfsoptError} from '../../src/errors.js'
import type {TensorInfo} from '../../src/models/dtypes.js'

const is400 = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof TfsoptError && e.status === 400 && re.test(e.message))

test('NaN, Infinity and long integers survive parsing; strings are untouched', () => {
  const v = parseJsonBody('{"inputs": [NaN, Infinity, -Infinity, 1.5, "NaN Infinity", 9007199254740993, -9223372036854775808]}') as {inputs: unknown[]}
  const t = decodeTensor(v.inputs.slice(0, 4), 'float32', 'x')
  assert.ok(Number.isNaN(t.data[0] as number))
  assert.equal(t.data[1], Infinity)
  assert.equal(t.data[2], -Infinity)
  assert.equal(v.inputs[4], 'NaN Infinity')
  const big = decodeTensor(v.inputs.slice(5), 'int64', 'b')
  assert.deepEqual([...(big.data as BigInt64Array)], [9007199254740993n, -9223372036854775808n])
  assert.equal(rewriteSpecials('{"a":"x\\"NaN"}'), '{"a":"x\\"NaN"}')
  is400(() => parseJsonBody('{"inputs": [1,'), /malformed JSON/)
})

test('floats are written as TF Serving writes them and round-trip exactly', () => {
  const f = new Float32Array([0.1, 1 / 3, 3.5, -0, 1e-8, 65504])
  for (const v of f) assert.equal(Math.fround(Number(formatFloat32(v))), v)
  assert.equal(formatFloat32(f[0]!), '0.1')
  assert.equal(formatFloat32(f[1]!), '0.333333343')
  assert.equal(formatFloat32(NaN), 'NaN')
  assert.equal(formatFloat32(-Infinity), '-Infinity')
  assert.equal(formatFloat64(0.1), '0.1')
  assert.equal(Number(formatFloat64(1 / 3)), 1 / 3)
})

test('decoding refuses ragged lists, wrong element types and out-of-range integers', () => {
  is400(() => decodeTensor([[1, 2], [3]], 'float32', "input 'x'"), /ragged.*\[2,2\]/)
  is400(() => decodeTensor([[1, 2], 3], 'float32', "input 'x'"), /ragged/)
  is400(() => decodeTensor(['a'], 'float32', "input 'x'"), /expected numbers/)
  is400(() => decodeTensor([1.5], 'int32', "input 'x'"), /integers/)
  is400(() => decodeTensor([256], 'uint8', "input 'x'"), /\[0, 255\]/)
  is400(() => decodeTensor([1], 'bool', "input 'x'"), /true or false/)
  is400(() => decodeTensor([1], 'string', "input 'x'"), /strings or \{"b64"/)
  const s = decodeTensor([{b64: Buffer.from('héllo').toString('base64')}, 'plain'], 'string', 'x')
  assert.deepEqual(s.data, ['héllo', 'plain'])
  assert.equal(encodeTensor(s, true), `[{"b64":"${Buffer.from('héllo').toString('base64')}"},{"b64":"${Buffer.from('plain').toString('base64')}"}]`)
})

const IN: TensorInfo[] = [
  {name: 'a', dtype: 'float32', shape: ['n', 2]},
  {name: 'b', dtype: 'int64', shape: ['n']},
]

test('row and columnar requests decode to the same tensors; every request error names what was expected', () => {
  const row = decodePredict(
    {
      instances: [
        {a: [1, 2], b: 3},
        {a: [4, 5], b: 6},
      ],
    },
    IN,
  )
  const col = decodePredict(
    {
      inputs: {
        a: [
          [1, 2],
          [4, 5],
        ],
        b: [3, 6],
      },
    },
    IN,
  )
  assert.deepEqual(row.feeds, col.feeds)
  assert.deepEqual(row.feeds.a!.dims, [2, 2])
  is400(() => decodePredict({instances: [], inputs: {}}, IN), /exactly one of/)
  is400(() => decodePredict({}, IN), /found neither/)
  is400(() => decodePredict({inputs: {a: [[1, 2]], c: [1]}}, IN), /unknown input 'c'.*'a', 'b'/)
  is400(() => decodePredict({inputs: {a: [[1, 2]]}}, IN), /missing input 'b'/)
  is400(() => decodePredict({inputs: {a: [[1, 2, 3]], b: [1]}}, IN), /shape \[1,3\].*\[n, 2\]/)
  is400(() => decodePredict({instances: [[1, 2]]}, IN), /2 inputs.*object keyed by input name/)
  is400(() => decodePredict({signature_name: 'other', inputs: {a: [[1, 2]], b: [1]}}, IN), /signature name "other" not found/)
})

test('responses are shaped like TF Serving: predictions per instance, outputs per tensor', () => {
  const outs = {
    p: {dtype: 'float32' as const, dims: [2, 2], data: new Float32Array([0.5, 1, 2, 3])},
    k: {dtype: 'int64' as const, dims: [2], data: new BigInt64Array([7n, 9007199254740993n])},
  }
  assert.equal(encodePredict('row', {p: outs.p}, ['p']), '{"predictions":[[0.5,1],[2,3]]}')
  assert.equal(encodePredict('row', outs, ['p', 'k']), '{"predictions":[{"p":[0.5,1],"k":7},{"p":[2,3],"k":9007199254740993}]}')
  assert.equal(encodePredict('columnar', {p: outs.p}, ['p']), '{"outputs":[[0.5,1],[2,3]]}')
  assert.equal(encodePredict('columnar', outs, ['p', 'k']), '{"outputs":{"p":[[0.5,1],[2,3]],"k":[7,9007199254740993]}}')
})

test('binary bodies round-trip and are checked against the model', () => {
  const x = new Float32Array([1, 2, 3, 4])
  const body = Buffer.from(x.buffer)
  const feeds = decodeBinary(body, ':float32:2x2', [{name: 'x', dtype: 'float32', shape: ['n', 2]}])
  assert.deepEqual([...(feeds.x!.data as Float32Array)], [1, 2, 3, 4])
  is400(() => decodeBinary(body, 'x:float32:3x2', [{name: 'x', dtype: 'float32', shape: ['n', 2]}]), /holds 16 bytes/)
  is400(() => decodeBinary(body, 'x:int32:2x2', [{name: 'x', dtype: 'float32', shape: ['n', 2]}]), /must be float32/)
  const enc = encodeBinary({y: feeds.x!}, ['y'])
  assert.equal(enc.header, 'y:float32:2x2')
  assert.deepEqual(enc.body, body)
})

test('batching defaults suit the model and contradictory settings are refused', () => {
  const dyn: TensorInfo[] = [{name: 'x', dtype: 'float32', shape: ['b', 4]}]
  const fixed: TensorInfo[] = [{name: 'x', dtype: 'float32', shape: [1, 4]}]
  assert.deepEqual(resolveBatching('m', {}, dyn, dyn), {enabled: true, maxBatchSize: 64, batchTimeoutMicros: 0, maxEnqueuedBatches: 128, allowedBatchSizes: []})
  assert.equal(resolveBatching('m', {}, fixed, fixed).enabled, false)
  assert.throws(() => resolveBatching('m', {maxBatchSize: 8}, fixed, fixed), /cannot be batched: input 'x' has shape \[1, 4\]/)
  assert.throws(() => resolveBatching('m', {maxBatchSize: 8, allowedBatchSizes: [2, 4]}, dyn, dyn), /must end with --max-batch-size \(8\)/)
  assert.throws(() => resolveBatching('m', {allowedBatchSizes: [4, 2]}, dyn, dyn), /strictly increasing/)
  assert.equal(resolveBatching('m', {allowedBatchSizes: [2, 4]}, dyn, dyn).maxBatchSize, 4)
})

test('batches are concatenated, padded with row 0, and split back per request', () => {
  const f = (v: number[]) => ({x: {dtype: 'float32' as const, dims: [v.length / 2, 2], data: new Float32Array(v)}})
  const b = concatFeeds([f([1, 2]), f([3, 4, 5, 6])], 3, 4)
  assert.deepEqual(b.x!.dims, [4, 2])
  assert.deepEqual([...(b.x!.data as Float32Array)], [1, 2, 3, 4, 5, 6, 1, 2])
  const part = sliceRows({y: b.x!}, 1, 2)
  assert.deepEqual([...(part.y!.data as Float32Array)], [3, 4, 5, 6])
})
