/** KServe v2 gRPC against a real server: hand-built messages (raw and typed contents) vs the TF Serving REST answers. */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {Metadata, status as Code} from '@grpc/grpc-js'
import {create} from '@bufbuild/protobuf'
import {multiModel, post, stringModel, tmp, typesModel, serve} from './helpers.js'
import {call, v2Client} from '../../src/server/grpc/client.js'
import {
  ModelInferRequestSchema,
  ModelMetadataRequestSchema,
  ModelReadyRequestSchema,
  ServerLiveRequestSchema,
  ServerMetadataRequestSchema,
  ServerReadyRequestSchema,
} from '../../src/server/kserve/gen/grpc_predict_v2_pb.js'

const dir = tmp()
const multi = multiModel(join(dir, 'multi.onnx'))
const strings = stringModel(join(dir, 'strings.onnx'))
const types = typesModel(join(dir, 'types.onnx'))
let srv: Awaited<ReturnType<typeof serve>>
let c: ReturnType<typeof v2Client>

before(async () => {
  srv = await serve({
    models: [
      {name: 'multi', path: multi},
      {name: 'strings', path: strings},
      {name: 'types', path: types},
    ],
    apiKey: 'k',
    grpcPort: 0,
  })
  c = v2Client(`127.0.0.1:${srv.grpcPort}`)
})
after(async () => {
  c.close()
  await srv.close()
})

const auth = () => {
  const m = new Metadata()
  m.set('authorization', 'Bearer k')
  return m
}
const restPost = (path: string, body: unknown) => post(`${srv.url}${path}`, body, {authorization: 'Bearer k'})
const infer = (init: Record<string, unknown>) => call(c.modelInfer, c, create(ModelInferRequestSchema, init as never), auth())
const fails = (p: Promise<unknown>, code: Code, re: RegExp) =>
  assert.rejects(p, (e: Error & {code?: number; details?: string}) => {
    assert.equal(e.code, code, `${Code[e.code!]}: ${e.details}`)
    assert.match(e.details ?? '', re)
    return true
  })

test('health without a key, server and model metadata, model readiness', async () => {
  assert.equal((await call(c.serverLive, c, create(ServerLiveRequestSchema), new Metadata())).live, true)
  assert.equal((await call(c.serverReady, c, create(ServerReadyRequestSchema), new Metadata())).ready, true)
  await fails(call(c.serverMetadata, c, create(ServerMetadataRequestSchema), new Metadata()), Code.UNAUTHENTICATED, /API key/)
  const sm = await call(c.serverMetadata, c, create(ServerMetadataRequestSchema), auth())
  assert.equal(sm.name, 'tfsopt')
  assert.equal((await call(c.modelReady, c, create(ModelReadyRequestSchema, {name: 'multi'}), auth())).ready, true)
  assert.equal((await call(c.modelReady, c, create(ModelReadyRequestSchema, {name: 'multi', version: '9'}), auth())).ready, false)
  await fails(call(c.modelReady, c, create(ModelReadyRequestSchema, {name: 'nope'}), auth()), Code.NOT_FOUND, /not served here/)
  const mm = await call(c.modelMetadata, c, create(ModelMetadataRequestSchema, {name: 'multi', version: '1'}), auth())
  assert.deepEqual(
    mm.inputs.map((i) => [i.name, i.datatype, i.shape]),
    [
      ['a', 'FP32', [-1n, 3n]],
      ['b', 'INT64', [-1n, 2n]],
      ['flag', 'BOOL', [-1n]],
    ],
  )
  assert.deepEqual([mm.name, mm.versions, mm.platform], ['multi', ['1'], 'onnxruntime_onnx'])
})

test('ModelInfer with typed contents (FP32, INT64, BOOL) answers raw outputs equal to the REST answer', async () => {
  const r = await infer({
    modelName: 'multi',
    id: 'q1',
    inputs: [
      {name: 'a', datatype: 'FP32', shape: [2n, 3n], contents: {fp32Contents: [0.5, -1.25, 3, 1e-3, 7, -0.1]}},
      {name: 'b', datatype: 'INT64', shape: [2n, 2n], contents: {int64Contents: [2n ** 53n + 1n, -5n, 0n, 9n]}},
      {name: 'flag', datatype: 'BOOL', shape: [2n], contents: {boolContents: [true, false]}},
    ],
    outputs: [{name: 'negated'}, {name: 'doubled'}, {name: 'incremented'}],
  })
  assert.deepEqual([r.modelName, r.modelVersion, r.id], ['multi', '1', 'q1'])
  assert.deepEqual(
    r.outputs.map((o) => [o.name, o.datatype, o.shape]),
    [
      ['negated', 'BOOL', [2n]],
      ['doubled', 'FP32', [2n, 3n]],
      ['incremented', 'INT64', [2n, 2n]],
    ],
  )
  const rest = await restPost('/v1/models/multi:predict', {
    inputs: {
      a: [
        [0.5, -1.25, 3],
        [1e-3, 7, -0.1],
      ],
      b: [
        [1, -5],
        [0, 9],
      ],
      flag: [true, false],
    },
  })
  const [neg, dbl, inc] = r.rawOutputContents.map((b) => Buffer.from(b))
  assert.deepEqual([...neg!], rest.json.outputs.negated.map(Number))
  assert.deepEqual(
    Array.from(new Float32Array(dbl!.buffer.slice(dbl!.byteOffset, dbl!.byteOffset + dbl!.length))),
    rest.json.outputs.doubled.flat().map(Math.fround),
  )
  assert.deepEqual([inc!.readBigInt64LE(0), inc!.readBigInt64LE(8)], [2n ** 53n + 2n, -4n])
})

test('ModelInfer with raw_input_contents: every datatype incl. FP16 and BYTES round-trips', async () => {
  const V2: Record<string, [string, number]> = {
    float16: ['FP16', 2],
    float64: ['FP64', 8],
    int8: ['INT8', 1],
    uint8: ['UINT8', 1],
    int16: ['INT16', 2],
    uint16: ['UINT16', 2],
    int32: ['INT32', 4],
    uint32: ['UINT32', 4],
    uint64: ['UINT64', 8],
  }
  const names = Object.keys(V2)
  // Deterministic distinct bytes per input (any bit pattern is a valid element of these types).
  const raw = names.map((t, k) => Buffer.from(Array.from({length: 4 * V2[t]![1]}, (_, i) => (i * 37 + k * 11 + 1) & 0xff)))
  const r = await infer({modelName: 'types', inputs: names.map((t) => ({name: `in_${t}`, datatype: V2[t]![0], shape: [2n, 2n]})), rawInputContents: raw})
  const byName = Object.fromEntries(r.outputs.map((o, i) => [o.name, Buffer.from(r.rawOutputContents[i]!)]))
  names.forEach((t, k) => assert.deepEqual(byName[`out_${t}`], raw[k], t))
  const el = (s: string) => Buffer.concat([Buffer.alloc(4), Buffer.from(s)]).fill(Buffer.byteLength(s), 0, 1)
  const s = await infer({
    modelName: 'strings',
    inputs: [{name: 'text', datatype: 'BYTES', shape: [2n]}],
    rawInputContents: [Buffer.concat([el('héllo'), el('')])],
    outputs: [{name: 'echo'}],
  })
  assert.deepEqual(Buffer.from(s.rawOutputContents[0]!), Buffer.concat([el('héllo'), el('')]))
})

test('bad ModelInfer requests get INVALID_ARGUMENT / NOT_FOUND saying what was wrong', async () => {
  const x = {name: 'in_float16', datatype: 'FP16', shape: [1n, 2n], contents: {fp32Contents: [1, 2]}}
  await fails(infer({modelName: 'types', inputs: [x]}), Code.INVALID_ARGUMENT, /FP16 has no typed contents field; send it in raw_input_contents/)
  await fails(
    infer({modelName: 'multi', inputs: [{name: 'a', datatype: 'FP32', shape: [1n, 3n]}], rawInputContents: [Buffer.alloc(12), Buffer.alloc(4)]}),
    Code.INVALID_ARGUMENT,
    /raw_input_contents has 2 entries but there are 1 inputs/,
  )
  await fails(
    infer({modelName: 'multi', inputs: [{name: 'a', datatype: 'FP32', shape: [1n, 3n], contents: {fp32Contents: [1]}}]}),
    Code.INVALID_ARGUMENT,
    /contents hold 1 values but shape \[1,3\] needs 3/,
  )
  await fails(infer({modelName: 'multi', modelVersion: 'v1', inputs: []}), Code.NOT_FOUND, /versions are numbers/)
  await fails(infer({modelName: 'nope', inputs: []}), Code.NOT_FOUND, /not served here/)
})
