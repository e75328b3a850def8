/**
 * KServe v2 REST against a real server, with spec-shaped bodies written here (JSON and binary), and
 * answers compared with the TF Serving REST API's for the same inputs.
 */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {IDENTITY_TYPES, get, multiModel, post, serve, stringModel, tmp, typesModel, versionedBase} from './helpers.js'

const dir = tmp()
const multi = multiModel(join(dir, 'multi.onnx'))
const strings = stringModel(join(dir, 'strings.onnx'))
const types = typesModel(join(dir, 'types.onnx'))
const base = versionedBase(join(dir, 'scale'), {1: 1, 2: 2})
let srv: Awaited<ReturnType<typeof serve>>
const v2 = (p: string) => srv.url + p

before(async () => {
  srv = await serve({
    models: [
      {name: 'multi', path: multi},
      {name: 'strings', path: strings},
      {name: 'types', path: types},
      {name: 'scale', path: base, policy: {all: {}}},
    ],
  })
})
after(() => srv.close())

/** A binary-extension body: the JSON header, then each buffer in order. */
function binaryBody(header: unknown, ...tensors: Buffer[]): {body: Buffer; headers: Record<string, string>} {
  const h = Buffer.from(JSON.stringify(header))
  return {body: Buffer.concat([h, ...tensors]), headers: {'inference-header-content-length': String(h.length), 'content-type': 'application/octet-stream'}}
}

async function postRaw(url: string, body: Buffer, headers: Record<string, string>) {
  const r = await fetch(url, {method: 'POST', body: body as unknown as BodyInit, headers})
  return {status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer())}
}

/** Splits a binary-extension answer into its JSON header and the bytes of each binary output. */
function splitAnswer(a: {headers: Headers; bytes: Buffer}) {
  const n = Number(a.headers.get('inference-header-content-length'))
  const head = JSON.parse(a.bytes.subarray(0, n).toString())
  let off = n
  const bin: Record<string, Buffer> = {}
  for (const o of head.outputs) {
    const size = o.parameters?.binary_data_size
    if (size === undefined) continue
    bin[o.name] = a.bytes.subarray(off, off + size)
    off += size
  }
  assert.equal(off, a.bytes.length, 'binary outputs fill the rest of the body exactly')
  return {head, bin}
}

test('server, health, model metadata and readiness', async () => {
  const s = await get(v2('/v2'))
  assert.equal(s.json.name, 'tfsopt')
  assert.ok(s.json.extensions.includes('binary_tensor_data'))
  assert.deepEqual((await get(v2('/v2/health/live'))).status, 200)
  assert.deepEqual((await get(v2('/v2/health/ready'))).status, 200)
  const m = await get(v2('/v2/models/multi'))
  assert.deepEqual(m.json, {
    name: 'multi',
    versions: ['1'],
    platform: 'onnxruntime_onnx',
    inputs: [
      {name: 'a', datatype: 'FP32', shape: [-1, 3]},
      {name: 'b', datatype: 'INT64', shape: [-1, 2]},
      {name: 'flag', datatype: 'BOOL', shape: [-1]},
    ],
    outputs: [
      {name: 'doubled', datatype: 'FP32', shape: [-1, 3]},
      {name: 'incremented', datatype: 'INT64', shape: [-1, 2]},
      {name: 'negated', datatype: 'BOOL', shape: [-1]},
    ],
  })
  assert.deepEqual((await get(v2('/v2/models/scale'))).json.versions.sort(), ['1', '2'])
  assert.equal((await get(v2('/v2/models/scale/versions/1/ready'))).status, 200)
  assert.equal((await get(v2('/v2/models/scale/versions/9/ready'))).status, 404)
  assert.equal((await get(v2('/v2/models/nope/ready'))).status, 404)
  const idx = await post(v2('/v2/repository/index'), {})
  assert.deepEqual(idx.json.map((e: {name: string; version: string}) => `${e.name}:${e.version}`).sort(), [
    'multi:1',
    'scale:1',
    'scale:2',
    'strings:1',
    'types:1',
  ])
})

test('JSON infer answers what TF Serving REST answers (FP32, INT64 beyond 2^53, BOOL), id echoed, nested or flat data', async () => {
  const body = {
    id: 'abc',
    inputs: [
      {
        name: 'a',
        shape: [2, 3],
        datatype: 'FP32',
        data: [
          [0.5, -1.25, 3],
          [1e-3, 7, -0.1],
        ],
      },
      {name: 'b', shape: [2, 2], datatype: 'INT64', data: ['<big>', -5, 0, 9]},
      {name: 'flag', shape: [2], datatype: 'BOOL', data: [true, false]},
    ],
  }
  const r = await postRaw(v2('/v2/models/multi/infer'), Buffer.from(JSON.stringify(body).replace('"<big>"', '9007199254740993')), {
    'content-type': 'application/json',
  })
  assert.equal(r.status, 200, r.bytes.toString())
  const text = r.bytes.toString()
  assert.match(text, /"data":\[9007199254740994,-4,1,10\]/, 'INT64 stays exact')
  const a = JSON.parse(text)
  assert.equal(a.model_name, 'multi')
  assert.equal(a.model_version, '1')
  assert.equal(a.id, 'abc')
  const rest = await post(`${srv.url}/v1/models/multi:predict`, {
    inputs: {
      a: body.inputs[0]!.data,
      b: [
        [1, -5],
        [0, 9],
      ],
      flag: [true, false],
    },
  })
  const out = Object.fromEntries(a.outputs.map((o: {name: string}) => [o.name, o]))
  assert.deepEqual(out.doubled, {name: 'doubled', datatype: 'FP32', shape: [2, 3], data: rest.json.outputs.doubled.flat()})
  assert.deepEqual(out.negated.data, rest.json.outputs.negated)
  assert.deepEqual(out.incremented.shape, [2, 2])
})

test('every datatype, JSON and binary in both directions, equals the REST answer', async () => {
  const V2: Record<string, string> = {
    float16: 'FP16',
    float64: 'FP64',
    int8: 'INT8',
    uint8: 'UINT8',
    int16: 'INT16',
    uint16: 'UINT16',
    int32: 'INT32',
    uint32: 'UINT32',
    uint64: 'UINT64',
  }
  const vals: Record<string, number[]> = {
    float16: [1, -2, 0.5, 65504],
    float64: [Math.PI, -1e300, 0, 5],
    int8: [-128, 127, 0, 1],
    uint8: [0, 255, 1, 2],
    int16: [-32768, 32767, 0, 1],
    uint16: [0, 65535, 1, 2],
    int32: [-2147483648, 2147483647, 0, 1],
    uint32: [0, 4294967295, 1, 2],
    uint64: [0, 2 ** 53, 1, 2],
  }
  const rest = await post(`${srv.url}/v1/models/types:predict`, {
    inputs: Object.fromEntries(IDENTITY_TYPES.map((t) => [`in_${t}`, [vals[t]!.slice(0, 2), vals[t]!.slice(2)]])),
  })
  assert.equal(rest.status, 200, rest.text)
  // JSON in, JSON out.
  const j = await post(v2('/v2/models/types/infer'), {inputs: IDENTITY_TYPES.map((t) => ({name: `in_${t}`, shape: [2, 2], datatype: V2[t], data: vals[t]}))})
  assert.equal(j.status, 200, j.text)
  for (const o of j.json.outputs) {
    const t = o.name.slice(4)
    assert.equal(o.datatype, V2[t])
    assert.deepEqual(o.data, rest.json.outputs[o.name].flat(), t)
  }
  // Binary in (little-endian, as written here), binary out for every output.
  const bytes = (t: string): Buffer => {
    const v = vals[t]!
    const b = Buffer.alloc(
      v.length * ({float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, uint64: 8} as Record<string, number>)[t]!,
    )
    v.forEach((x, i) => {
      if (t === 'float16') b.writeUInt16LE({1: 0x3c00, [-2]: 0xc000, 0.5: 0x3800, 65504: 0x7bff}[x]!, i * 2)
      else if (t === 'float64') b.writeDoubleLE(x, i * 8)
      else if (t === 'int8') b.writeInt8(x, i)
      else if (t === 'uint8') b.writeUInt8(x, i)
      else if (t === 'int16') b.writeInt16LE(x, i * 2)
      else if (t === 'uint16') b.writeUInt16LE(x, i * 2)
      else if (t === 'int32') b.writeInt32LE(x, i * 4)
      else if (t === 'uint32') b.writeUInt32LE(x, i * 4)
      else b.writeBigUInt64LE(BigInt(x), i * 8)
    })
    return b
  }
  const req = binaryBody(
    {
      inputs: IDENTITY_TYPES.map((t) => ({name: `in_${t}`, shape: [2, 2], datatype: V2[t], parameters: {binary_data_size: bytes(t).length}})),
      parameters: {binary_data_output: true},
    },
    ...IDENTITY_TYPES.map(bytes),
  )
  const r = await postRaw(v2('/v2/models/types/infer'), req.body, req.headers)
  assert.equal(r.status, 200, r.bytes.toString())
  const {head, bin} = splitAnswer(r)
  for (const t of IDENTITY_TYPES) {
    assert.deepEqual(bin[`out_${t}`], bytes(t), t)
    assert.deepEqual(head.outputs.find((o: {name: string}) => o.name === `out_${t}`).shape, [2, 2])
  }
})

test('BYTES as JSON strings and as length-prefixed binary; requested outputs; per-output binary_data', async () => {
  const j = await post(v2('/v2/models/strings/infer'), {
    inputs: [{name: 'text', shape: [2], datatype: 'BYTES', data: ['héllo', '']}],
    outputs: [{name: 'echo'}],
  })
  assert.deepEqual(j.json.outputs, [{name: 'echo', datatype: 'BYTES', shape: [2], data: ['héllo', '']}])
  const rest = await post(`${srv.url}/v1/models/strings:predict`, {instances: ['héllo', '']})
  assert.deepEqual(
    rest.json.predictions.map((p: {echo: string}) => p.echo),
    j.json.outputs[0].data,
  )
  const utf = Buffer.from('héllo')
  const el = Buffer.concat([Buffer.from([utf.length, 0, 0, 0]), utf, Buffer.from([0, 0, 0, 0])])
  const req = binaryBody(
    {
      inputs: [{name: 'text', shape: [2], datatype: 'BYTES', parameters: {binary_data_size: el.length}}],
      outputs: [{name: 'echo_bytes', parameters: {binary_data: true}}, {name: 'echo'}],
    },
    el,
  )
  const r = await postRaw(v2('/v2/models/strings/infer'), req.body, req.headers)
  assert.equal(r.status, 200, r.bytes.toString())
  const {head, bin} = splitAnswer(r)
  assert.deepEqual(
    head.outputs.map((o: {name: string}) => o.name),
    ['echo_bytes', 'echo'],
  )
  assert.deepEqual(bin.echo_bytes, el)
  assert.deepEqual(head.outputs[1].data, ['héllo', ''])
})

test('versions address the right model; bad requests get {"error"} with 400/404', async () => {
  const body = {inputs: [{name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4]}]}
  assert.deepEqual((await post(v2('/v2/models/scale/infer'), body)).json.outputs[0].data, [2, 4, 6, 8])
  const one = await post(v2('/v2/models/scale/versions/1/infer'), body)
  assert.deepEqual([one.json.model_version, one.json.outputs[0].data], ['1', [1, 2, 3, 4]])
  const bad = async (url: string, b: unknown, status: number, re: RegExp) => {
    const r = await post(v2(url), b)
    assert.equal(r.status, status, r.text)
    assert.match(r.json.error, re)
  }
  await bad('/v2/models/nope/infer', body, 404, /model 'nope' is not served here/)
  await bad('/v2/models/scale/versions/5/infer', body, 404, /version 5 of model 'scale'/)
  await bad('/v2/models/scale/infer', {inputs: [{name: 'x', shape: [1, 4], datatype: 'FP64', data: [1, 2, 3, 4]}]}, 400, /input 'x' must be FP32, got FP64/)
  await bad('/v2/models/scale/infer', {inputs: [{name: 'x', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5]}]}, 400, /has shape \[1,5\]/)
  await bad(
    '/v2/models/scale/infer',
    {inputs: [{name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3]}]},
    400,
    /"data" holds 3 values but shape \[1,4\] needs 4/,
  )
  await bad('/v2/models/scale/infer', '{"inputs": [', 400, /malformed JSON body/)
  await bad('/v2/models/scale/infer', {...body, outputs: [{name: 'q'}]}, 400, /unknown output 'q'/)
  await bad('/v2/nothing', {}, 404, /no such v2 endpoint/)
  const wrongMethod = await get(v2('/v2/models/scale/infer'))
  assert.equal(wrongMethod.status, 405)
})
