/**
 * TF Serving's gRPC API against a real server: a grpc-js client built from the generated codecs sends
 * hand-built messages; answers are compared with running the model directly and with the REST API.
 */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {Metadata, status as Code} from '@grpc/grpc-js'
import {create} from '@bufbuild/protobuf'
import {anyUnpack} from '@bufbuild/protobuf/wkt'
import {IDENTITY_TYPES, fixedModel, multiModel, post, runDirect, stringModel, tmp, typesModel, versionedBase, serve} from './helpers.js'
import {call, modelClient, predictionClient} from '../../src/server/grpc/client.js'
import {type TensorProto, TensorProtoSchema} from '../../src/server/grpc/gen/tensorflow/core/framework/tensor_pb.js'
import {DataType} from '../../src/server/grpc/gen/tensorflow/core/framework/types_pb.js'
import {GetModelMetadataRequestSchema, SignatureDefMapSchema} from '../../src/server/grpc/gen/tensorflow_serving/apis/get_model_metadata_pb.js'
import {GetModelStatusRequestSchema, ModelVersionStatus_State} from '../../src/server/grpc/gen/tensorflow_serving/apis/get_model_status_pb.js'
import {PredictRequestSchema} from '../../src/server/grpc/gen/tensorflow_serving/apis/predict_pb.js'
import {type ModelSpec, ModelSpecSchema} from '../../src/server/grpc/gen/tensorflow_serving/apis/model_pb.js'

const dir = tmp()
const multi = multiModel(join(dir, 'multi.onnx'))
const strings = stringModel(join(dir, 'strings.onnx'))
const types = typesModel(join(dir, 'types.onnx'))
const base = versionedBase(join(dir, 'scale'), {1: 1, 2: 2})
let srv: Awaited<ReturnType<typeof serve>>
let pc: ReturnType<typeof predictionClient>
let mc: ReturnType<typeof modelClient>
const md = () => new Metadata()

before(async () => {
  srv = await serve({
    models: [
      {name: 'multi', path: multi},
      {name: 'strings', path: strings},
      {name: 'types', path: types},
      {name: 'scale', path: base, policy: {all: {}}, labels: {stable: 1, canary: 2}},
    ],
    grpcPort: 0,
  })
  pc = predictionClient(`127.0.0.1:${srv.grpcPort}`)
  mc = modelClient(`127.0.0.1:${srv.grpcPort}`)
})
after(async () => {
  pc.close()
  mc.close()
  await srv.close()
})

const shape = (...dims: number[]) => ({dim: dims.map((d) => ({size: BigInt(d), name: ''}))})
const tp = (init: Partial<TensorProto>, ...dims: number[]) => create(TensorProtoSchema, {...init, tensorShape: shape(...dims)} as never)
const spec = (name: string, more: Partial<ModelSpec> = {}) => create(ModelSpecSchema, {name, ...more} as never)
const predict = (modelSpec: ModelSpec, inputs: Record<string, TensorProto>, outputFilter: string[] = [], m = md()) =>
  call(pc.predict, pc, create(PredictRequestSchema, {modelSpec, inputs, outputFilter}), m)
const fails = async (p: Promise<unknown>, code: Code, re: RegExp) =>
  assert.rejects(p, (e: Error & {code?: number; details?: string}) => {
    assert.equal(e.code, code, `${Code[e.code!]}: ${e.details}`)
    assert.match(e.details ?? '', re)
    return true
  })

test('Predict with typed fields (float, int64, bool) answers what the model computes and what REST answers', async () => {
  const a = [0.5, -1.25, 3, 1e-3, 7, -0.1]
  const b = [2n ** 53n + 1n, -5n, 0n, 9n]
  const res = await predict(spec('multi'), {
    a: tp({dtype: DataType.DT_FLOAT, floatVal: a}, 2, 3),
    b: tp({dtype: DataType.DT_INT64, int64Val: b}, 2, 2),
    flag: tp({dtype: DataType.DT_BOOL, boolVal: [true, false]}, 2),
  })
  const direct = await runDirect(multi, {
    a: {dtype: 'float32', dims: [2, 3], data: Float32Array.from(a)},
    b: {dtype: 'int64', dims: [2, 2], data: BigInt64Array.from(b)},
    flag: {dtype: 'bool', dims: [2], data: Uint8Array.from([1, 0])},
  })
  assert.deepEqual(res.outputs.doubled!.floatVal, Array.from(direct.doubled!.data as Float32Array))
  assert.deepEqual(res.outputs.incremented!.int64Val, [2n ** 53n + 2n, -4n, 1n, 10n])
  assert.deepEqual(res.outputs.negated!.boolVal, [false, true])
  assert.deepEqual(
    res.outputs.doubled!.tensorShape!.dim.map((d) => d.size),
    [2n, 3n],
  )
  assert.equal(res.modelSpec?.name, 'multi')
  assert.equal(res.modelSpec?.versionChoice.case === 'version' && res.modelSpec.versionChoice.value.value, 1n)
  assert.equal(res.modelSpec?.signatureName, 'serving_default')
  const rest = await post(`${srv.url}/v1/models/multi:predict`, {
    inputs: {
      a: [a.slice(0, 3), a.slice(3)],
      b: [
        [2 ** 53 + 1, -5],
        [0, 9],
      ],
      flag: [true, false],
    },
  })
  assert.deepEqual(rest.json.outputs.doubled.flat().map(Math.fround), res.outputs.doubled!.floatVal)
  assert.deepEqual(rest.json.outputs.negated, res.outputs.negated!.boolVal)
})

test('every other dtype round-trips, as tensor_content and as its typed field (half_val, int_val, uint32/uint64_val, double_val)', async () => {
  const raw: Record<string, ArrayBufferView & {length: number}> = {
    float16: Uint16Array.from([0x3c00, 0xc000, 0x7bff, 0x0001]),
    float64: Float64Array.from([Math.PI, -1e300, 0, 5]),
    int8: Int8Array.from([-128, 127, 0, 1]),
    uint8: Uint8Array.from([0, 255, 1, 2]),
    int16: Int16Array.from([-32768, 32767, 0, 1]),
    uint16: Uint16Array.from([0, 65535, 1, 2]),
    int32: Int32Array.from([-2147483648, 2147483647, 0, 1]),
    uint32: Uint32Array.from([0, 4294967295, 1, 2]),
    uint64: BigUint64Array.from([0n, 2n ** 64n - 1n, 1n, 2n]),
  }
  const DT: Record<string, DataType> = {
    float16: DataType.DT_HALF,
    float64: DataType.DT_DOUBLE,
    int8: DataType.DT_INT8,
    uint8: DataType.DT_UINT8,
    int16: DataType.DT_INT16,
    uint16: DataType.DT_UINT16,
    int32: DataType.DT_INT32,
    uint32: DataType.DT_UINT32,
    uint64: DataType.DT_UINT64,
  }
  const typed = (t: string): Partial<TensorProto> => {
    const vals = Array.from(raw[t] as unknown as ArrayLike<number | bigint>)
    if (t === 'float16') return {halfVal: vals as number[]}
    if (t === 'float64') return {doubleVal: vals as number[]}
    if (t === 'uint32') return {uint32Val: vals as number[]}
    if (t === 'uint64') return {uint64Val: vals as bigint[]}
    return {intVal: vals as number[]}
  }
  const asContent = Object.fromEntries(
    IDENTITY_TYPES.map((t) => [`in_${t}`, tp({dtype: DT[t]!, tensorContent: new Uint8Array(raw[t]!.buffer.slice(0))}, 2, 2)]),
  )
  const asTyped = Object.fromEntries(IDENTITY_TYPES.map((t) => [`in_${t}`, tp({dtype: DT[t]!, ...typed(t)}, 2, 2)]))
  for (const inputs of [asContent, asTyped]) {
    const res = await predict(spec('types'), inputs)
    for (const t of IDENTITY_TYPES) {
      const out = res.outputs[`out_${t}`]!
      assert.equal(out.dtype, DT[t], t)
      assert.deepEqual(out, tp({dtype: DT[t], ...typed(t)}, 2, 2), t)
    }
  }
  // The REST API gives the same values for the same inputs (float16 as numbers).
  const rest = await post(`${srv.url}/v1/models/types:predict`, {
    inputs: {
      in_uint64: [
        [0, '18446744073709551615'],
        [1, 2],
      ],
    },
  })
  assert.equal(rest.status, 400, 'REST refuses a partial input set, as gRPC does below')
  await fails(predict(spec('types'), {in_int8: asTyped.in_int8!}), Code.INVALID_ARGUMENT, /missing input 'in_float16'/)
})

test('string_val carries strings; output_filter picks outputs; version, label and signature_name address versions', async () => {
  const s = await predict(spec('strings'), {text: tp({dtype: DataType.DT_STRING, stringVal: [Buffer.from('héllo'), Buffer.from('')]}, 2)}, ['echo_bytes'])
  assert.deepEqual(Object.keys(s.outputs), ['echo_bytes'])
  assert.deepEqual(
    s.outputs.echo_bytes!.stringVal.map((x) => Buffer.from(x).toString()),
    ['héllo', ''],
  )
  const x = tp({dtype: DataType.DT_FLOAT, floatVal: [1, 2, 3, 4]}, 1, 4)
  const latest = await predict(spec('scale'), {x})
  assert.deepEqual(latest.outputs.y!.floatVal, [2, 4, 6, 8])
  const v1 = await predict(spec('scale', {versionChoice: {case: 'version', value: {value: 1n}}} as never), {x})
  assert.deepEqual(v1.outputs.y!.floatVal, [1, 2, 3, 4])
  const stable = await predict(spec('scale', {versionChoice: {case: 'versionLabel', value: 'stable'}, signatureName: 'serving_default'} as never), {x})
  assert.deepEqual(stable.outputs.y!.floatVal, [1, 2, 3, 4])
  assert.equal(stable.modelSpec?.versionChoice.case === 'version' && stable.modelSpec.versionChoice.value.value, 1n, 'the effective version is echoed')
  const canary = await predict(spec('scale', {versionChoice: {case: 'versionLabel', value: 'canary'}} as never), {x})
  assert.equal(canary.modelSpec?.versionChoice.case === 'version' && canary.modelSpec.versionChoice.value.value, 2n)
})

test('GetModelMetadata packs the signature_def; GetModelStatus lists versions and states', async () => {
  const r = await call(pc.getModelMetadata, pc, create(GetModelMetadataRequestSchema, {modelSpec: spec('multi'), metadataField: ['signature_def']}), md())
  const map = anyUnpack(r.metadata.signature_def!, SignatureDefMapSchema)!
  const sig = map.signatureDef.serving_default!
  assert.equal(sig.methodName, 'tensorflow/serving/predict')
  assert.equal(sig.inputs.b!.dtype, DataType.DT_INT64)
  assert.deepEqual(
    sig.inputs.a!.tensorShape!.dim.map((d) => d.size),
    [-1n, 3n],
  )
  assert.equal(sig.outputs.negated!.dtype, DataType.DT_BOOL)
  assert.equal(r.modelSpec?.versionChoice.case === 'version' && r.modelSpec.versionChoice.value.value, 1n)
  const st = await call(mc.getModelStatus, mc, create(GetModelStatusRequestSchema, {modelSpec: spec('scale')}), md())
  assert.deepEqual(
    st.modelVersionStatus.map((v) => [v.version, v.state, v.status?.errorCode]),
    [
      [2n, ModelVersionStatus_State.AVAILABLE, 0],
      [1n, ModelVersionStatus_State.AVAILABLE, 0],
    ],
  )
  const one = await call(
    mc.getModelStatus,
    mc,
    create(GetModelStatusRequestSchema, {modelSpec: spec('scale', {versionChoice: {case: 'versionLabel', value: 'stable'}} as never)}),
    md(),
  )
  assert.deepEqual(
    one.modelVersionStatus.map((v) => v.version),
    [1n],
  )
})

test("errors come back as TF Serving's gRPC codes with what was wrong", async () => {
  const x = tp({dtype: DataType.DT_FLOAT, floatVal: [1, 2, 3, 4]}, 1, 4)
  await fails(predict(spec('nope'), {x}), Code.NOT_FOUND, /model 'nope' is not served here/)
  await fails(predict(spec('scale', {versionChoice: {case: 'version', value: {value: 7n}}} as never), {x}), Code.NOT_FOUND, /version 7 of model 'scale'/)
  await fails(predict(spec('scale', {versionChoice: {case: 'versionLabel', value: 'beta'}} as never), {x}), Code.NOT_FOUND, /no version label 'beta'/)
  await fails(predict(spec(''), {x}), Code.INVALID_ARGUMENT, /model_spec.name is required/)
  await fails(predict(spec('scale'), {q: x}), Code.INVALID_ARGUMENT, /unknown input 'q'; this model's inputs are 'x'/)
  await fails(
    predict(spec('scale'), {x: tp({dtype: DataType.DT_DOUBLE, doubleVal: [1]}, 1, 4)}),
    Code.INVALID_ARGUMENT,
    /input 'x' must be float32, got float64/,
  )
  await fails(predict(spec('scale'), {x: tp({dtype: DataType.DT_FLOAT, floatVal: [1]}, 1, 5)}), Code.INVALID_ARGUMENT, /has shape \[1,5\]/)
  await fails(predict(spec('scale'), {x}, ['z']), Code.INVALID_ARGUMENT, /output_filter names 'z'/)
  await fails(predict(spec('scale', {signatureName: 'other'}), {x}), Code.INVALID_ARGUMENT, /signature name "other" not found/)
  await fails(
    call(pc.getModelMetadata, pc, create(GetModelMetadataRequestSchema, {modelSpec: spec('multi'), metadataField: []}), md()),
    Code.INVALID_ARGUMENT,
    /ask for "signature_def"/,
  )
  await fails(call(mc.getModelStatus, mc, create(GetModelStatusRequestSchema, {modelSpec: spec('nope')}), md()), Code.NOT_FOUND, /not served here/)
})

test('API key, full queue and drain map to UNAUTHENTICATED and UNAVAILABLE; requests count in the shared metrics', async () => {
  const fixed = fixedModel(join(dir, 'fixed.onnx'))
  const s = await serve({
    models: [{name: 'f', path: fixed}],
    batching: {maxEnqueuedBatches: 1},
    injectLatencyMs: 500,
    apiKey: 'sekret',
    grpcPort: 0,
    maxBodyBytes: 4096,
  })
  const c = predictionClient(`127.0.0.1:${s.grpcPort}`)
  const x = tp({dtype: DataType.DT_FLOAT, floatVal: [-1, 2, -3, 4]}, 1, 4)
  const withKey = () => {
    const m = new Metadata()
    m.set('authorization', 'Bearer sekret')
    return m
  }
  const req = create(PredictRequestSchema, {modelSpec: spec('f'), inputs: {x}})
  try {
    await fails(call(c.predict, c, req, new Metadata()), Code.UNAUTHENTICATED, /authorization: Bearer <key>/)
    const wrong = new Metadata()
    wrong.set('authorization', 'Bearer nope')
    await fails(call(c.predict, c, req, wrong), Code.UNAUTHENTICATED, /wrong API key/)
    // A message over --max-body-bytes is refused by grpc-js before it is decoded.
    const huge = create(PredictRequestSchema, {modelSpec: spec('f'), inputs: {x: tp({dtype: DataType.DT_FLOAT, floatVal: new Array(2000).fill(1)}, 1, 4)}})
    await fails(call(c.predict, c, huge, withKey()), Code.RESOURCE_EXHAUSTED, /larger than max/)
    const res = await Promise.allSettled([0, 1, 2, 3].map(() => call(c.predict, c, req, withKey())))
    const ok = res.filter((r) => r.status === 'fulfilled')
    assert.equal(ok.length, 2)
    for (const r of ok) assert.deepEqual(r.value.outputs.y!.floatVal, [0, 2, 0, 4])
    for (const r of res.filter((r) => r.status === 'rejected')) {
      assert.equal(r.reason.code, Code.UNAVAILABLE)
      assert.match(r.reason.details, /queue is full/)
    }
    const m = await (await fetch(`${s.url}/metrics`, {headers: {authorization: 'Bearer sekret'}})).text()
    assert.match(m, /tfsopt_requests_total\{model="f",version="1",status="200"\} 2/)
    assert.match(m, /tfsopt_requests_total\{model="f",version="1",status="503"\} 2/)
    // Draining: a call that arrives after close() began is refused UNAVAILABLE; the one in flight finishes.
    const inflight = call(c.predict, c, req, withKey())
    await new Promise((r) => setTimeout(r, 100))
    const closing = s.close()
    await fails(call(c.predict, c, req, withKey()), Code.UNAVAILABLE, /the server is shutting down/)
    assert.deepEqual((await inflight).outputs.y!.floatVal, [0, 2, 0, 4])
    await closing
  } finally {
    c.close()
    await s.close()
  }
})
