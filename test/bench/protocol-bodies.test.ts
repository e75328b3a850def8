/** The bench's per-protocol bodies: one TF Serving JSON body re-encoded for each protocol, checked byte by byte. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fromBinary} from '@bufbuild/protobuf'
import {httpRequest, grpcRequest, parseProtocol} from '../../src/bench/protocol-bodies.ts'
import {PredictRequestSchema} from '../../src/server/grpc/gen/tensorflow_serving/apis/predict_pb.ts'
import {ModelInferRequestSchema} from '../../src/server/kserve/gen/grpc_predict_v2_pb.ts'

const inputs = [
  {name: 'x', dtype: 'float32' as const, shape: ['batch', 2]},
  {name: 'n', dtype: 'int64' as const, shape: ['batch']},
]
const rest = '{"instances":[{"x":[0.5,-2],"n":9007199254740993}]}'

test('protocol names and aliases', () => {
  assert.equal(parseProtocol('grpc'), 'tfs-grpc')
  assert.equal(parseProtocol('kserve-v2-binary'), 'v2-rest-binary')
  assert.equal(parseProtocol('v2-grpc'), 'v2-grpc')
  assert.throws(() => parseProtocol('soap'), /--protocol must be one of tfs-rest, tfs-grpc, v2-rest, v2-rest-binary, v2-grpc/)
})

test('one REST body becomes the same tensors in every protocol', () => {
  assert.deepEqual(httpRequest('tfs-rest', 'm', rest, inputs).body.toString(), rest)
  const j = httpRequest('v2-rest', 'm/1', rest, inputs)
  assert.equal(j.path, '/v2/models/m%2F1/infer')
  assert.equal(
    j.body.toString(),
    '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[0.5,-2]},{"name":"n","shape":[1],"datatype":"INT64","data":[9007199254740993]}]}',
  )
  const b = httpRequest('v2-rest-binary', 'm', rest, inputs)
  const n = Number(b.headers['inference-header-content-length'])
  assert.deepEqual(JSON.parse(b.body.subarray(0, n).toString()), {
    inputs: [
      {name: 'x', shape: [1, 2], datatype: 'FP32', parameters: {binary_data_size: 8}},
      {name: 'n', shape: [1], datatype: 'INT64', parameters: {binary_data_size: 8}},
    ],
    parameters: {binary_data_output: true},
  })
  const tail = b.body.subarray(n)
  assert.deepEqual([tail.readFloatLE(0), tail.readFloatLE(4), tail.readBigInt64LE(8)], [0.5, -2, 9007199254740993n])
  const p = fromBinary(PredictRequestSchema, grpcRequest('tfs-grpc', 'm', rest, inputs))
  assert.equal(p.modelSpec?.name, 'm')
  assert.deepEqual(Buffer.from(p.inputs.n!.tensorContent).readBigInt64LE(0), 9007199254740993n)
  const v = fromBinary(ModelInferRequestSchema, grpcRequest('v2-grpc', 'm', rest, inputs))
  assert.deepEqual(
    v.inputs.map((i) => [i.name, i.datatype, i.shape]),
    [
      ['x', 'FP32', [1n, 2n]],
      ['n', 'INT64', [1n]],
    ],
  )
  assert.deepEqual(Buffer.from(v.rawInputContents[0]!).readFloatLE(4), -2)
})
