/** Every endpoint and format against a real server, with answers compared to running the model directly. */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {
  IDENTITY_TYPES,
  fixedModel,
  floats,
  get,
  metric,
  multiModel,
  nest,
  post,
  primaryModel,
  runDirect,
  serve,
  stringModel,
  tmp,
  typesModel,
} from './helpers.js'
import {float16BitsToFloat32Scalar} from '../../src/models/onnx/tensor.js'

const dir = tmp()
const primary = primaryModel()
const multi = multiModel(join(dir, 'multi.onnx'))
const strings = stringModel(join(dir, 'strings.onnx'))
const types = typesModel(join(dir, 'types.onnx'))
const fixed = fixedModel(join(dir, 'fixed.onnx'))
let srv: Awaited<ReturnType<typeof serve>>
const url = (p: string) => srv.url + p
const rowLen = primary.rowShape.reduce((a, b) => a * b, 1)

before(async () => {
  srv = await serve({
    models: [
      {name: 'primary', path: primary.path},
      {name: 'multi', path: multi},
      {name: 'strings', path: strings},
      {name: 'types', path: types},
      {name: 'fixed', path: fixed},
    ],
    maxBodyBytes: 2_000_000,
  })
})
after(() => srv.close())

test('status, version, metadata and health endpoints answer as TF Serving does', async () => {
  const st = await get(url('/v1/models/primary'))
  assert.deepEqual(st.json, {model_version_status: [{version: '1', state: 'AVAILABLE', status: {error_code: 'OK', error_message: ''}}]})
  assert.equal((await get(url('/v1/models/primary/versions/1'))).status, 200)
  const md = await get(url('/v1/models/multi/metadata'))
  const sig = md.json.metadata.signature_def.signature_def.serving_default
  assert.deepEqual(md.json.model_spec, {name: 'multi', signature_name: '', version: '1'})
  assert.equal(sig.inputs.b.dtype, 'DT_INT64')
  assert.deepEqual(
    sig.inputs.a.tensor_shape.dim.map((d: {size: string}) => d.size),
    ['-1', '3'],
  )
  assert.equal(sig.outputs.negated.dtype, 'DT_BOOL')
  assert.equal((await get(url('/v1/models/multi/versions/1/metadata'))).status, 200)
  assert.deepEqual((await get(url('/healthz'))).json, {status: 'ok'})
})

test('row and columnar predictions match the runtime, row by row', async () => {
  const flat = floats(rowLen * 3, 7)
  const rows = [0, 1, 2].map((r) => nest(flat.slice(r * rowLen, (r + 1) * rowLen), primary.rowShape))
  const direct = await runDirect(primary.path, {[primary.input]: {dtype: 'float32', dims: [3, ...primary.rowShape], data: Float32Array.from(flat)}})
  const out = Object.values(direct)[0]!
  const width = out.data.length / 3
  const expect = [0, 1, 2].map((r) => Array.from(out.data.slice(r * width, (r + 1) * width) as Float32Array))
  const row = await post(url('/v1/models/primary:predict'), {instances: rows})
  assert.equal(row.status, 200, row.text)
  assert.deepEqual(
    row.json.predictions.map((p: number[]) => p.map(Math.fround)),
    expect,
  )
  const col = await post(url('/v1/models/primary/versions/1:predict'), {signature_name: 'serving_default', inputs: rows})
  assert.deepEqual(
    col.json.outputs.map((p: number[]) => p.map(Math.fround)),
    expect,
  )
  const named = await post(url('/v1/models/primary:predict'), {inputs: {[primary.input]: rows.slice(0, 1)}})
  assert.deepEqual(named.json.outputs[0].map(Math.fround), expect[0])
})

test('several named inputs and outputs of float, int64 and bool, in both formats', async () => {
  const row = await post(url('/v1/models/multi:predict'), {
    instances: [
      // biome-ignore lint/correctness/noPrecisionLoss: JSON.stringify sends 9007199254740992; the exact int64 path is the raw body below
      {a: [1, 2, 3], b: [9007199254740993, -5], flag: true},
      {a: [NaN, 0.5, -1], b: [0, 1], flag: false},
    ].map((x) => x),
  })
  // JSON.stringify turns NaN into null, so send the NaN literal as TF Serving clients may.
  const body = '{"instances": [{"a": [1, 2, 3], "b": [9007199254740993, -5], "flag": true}, {"a": [NaN, 0.5, -Infinity], "b": [0, 1], "flag": false}]}'
  const r = await post(url('/v1/models/multi:predict'), body)
  assert.equal(r.status, 200, r.text)
  assert.equal(row.status, 400) // null is not a number: refused, not silently zero
  assert.match(
    r.text,
    /^\{"predictions":\[\{"doubled":\[2,4,6\],"incremented":\[9007199254740994,-4\],"negated":false\},\{"doubled":\[NaN,1,-Infinity\],"incremented":\[1,2\],"negated":true\}\]\}$/,
  )
  const c = await post(url('/v1/models/multi:predict'), {inputs: {a: [[1, 1, 1]], b: [[2, 3]], flag: [true]}})
  assert.deepEqual(c.json, {outputs: {doubled: [[2, 2, 2]], incremented: [[3, 4]], negated: [false]}})
  const direct = await runDirect(multi, {
    a: {dtype: 'float32', dims: [1, 3], data: new Float32Array([1, 1, 1])},
    b: {dtype: 'int64', dims: [1, 2], data: new BigInt64Array([2n, 3n])},
    flag: {dtype: 'bool', dims: [1], data: new Uint8Array([1])},
  })
  assert.deepEqual([...(direct.incremented!.data as BigInt64Array)].map(Number), c.json.outputs.incremented[0])
})

test('strings and {"b64": ...} values; *_bytes outputs come back as b64', async () => {
  const bin = Buffer.from('ünïcode ✓').toString('base64')
  const r = await post(url('/v1/models/strings:predict'), {instances: ['plain', {b64: bin}]})
  assert.equal(r.status, 200, r.text)
  assert.deepEqual(r.json.predictions, [
    {echo: 'plain', echo_bytes: {b64: Buffer.from('plain').toString('base64')}},
    {echo: 'ünïcode ✓', echo_bytes: {b64: bin}},
  ])
})

test('every numeric type JSON can carry goes in and comes back unchanged', async () => {
  const vals: Record<string, number[]> = {
    float16: [0.5, -65504],
    float64: [0.1, 1e300],
    int8: [-128, 127],
    uint8: [0, 255],
    int16: [-32768, 32767],
    uint16: [0, 65535],
    int32: [-2147483648, 2147483647],
    uint32: [0, 4294967295],
    uint64: [0, 9007199254740991],
  }
  const inputs = Object.fromEntries(IDENTITY_TYPES.map((t) => [`in_${t}`, [vals[t]]]))
  const r = await post(url('/v1/models/types:predict'), {inputs})
  assert.equal(r.status, 200, r.text)
  for (const t of IDENTITY_TYPES) assert.deepEqual(r.json.outputs[`out_${t}`], [vals[t]], t)
  assert.equal(float16BitsToFloat32Scalar(0x3800), r.json.outputs.out_float16[0][0])
  const bad = await post(url('/v1/models/types:predict'), {inputs: {...inputs, in_uint8: [[0, 256]]}})
  assert.equal(bad.status, 400)
  assert.match(bad.json.error, /in_uint8.*integers in \[0, 255\].*256/)
})

test('the binary body skips JSON both ways and answers the same numbers', async () => {
  const flat = Float32Array.from(floats(rowLen * 2, 3))
  const r = await fetch(url('/v1/models/primary:predict'), {
    method: 'POST',
    body: Buffer.from(flat.buffer),
    headers: {
      'content-type': 'application/octet-stream',
      accept: 'application/octet-stream',
      'x-tfsopt-tensors': `${primary.input}:float32:2x${primary.rowShape.join('x')}`,
    },
  })
  assert.equal(r.status, 200)
  const header = r.headers.get('x-tfsopt-tensors')!
  const got = new Float32Array(await r.arrayBuffer())
  const direct = Object.values(await runDirect(primary.path, {[primary.input]: {dtype: 'float32', dims: [2, ...primary.rowShape], data: flat}}))[0]!
  assert.match(header, /:float32:2x/)
  assert.deepEqual([...got], [...(direct.data as Float32Array)])
  const asJson = await fetch(url('/v1/models/primary:predict'), {
    method: 'POST',
    body: Buffer.from(flat.buffer),
    headers: {'content-type': 'application/octet-stream', 'x-tfsopt-tensors': `:float32:2x${primary.rowShape.join('x')}`},
  })
  assert.equal(((await asJson.json()) as {outputs: number[][]}).outputs.length, 2)
})

test('errors: 400 with what was expected, 404 for unknown models/versions/labels, 405, 413', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['/v1/models/primary:predict', '{"instances": [1,', /malformed JSON/],
    ['/v1/models/primary:predict', {instances: [[1]], inputs: [[1]]}, /exactly one of "instances".*not both/],
    ['/v1/models/primary:predict', {signature: 1}, /found neither/],
    [
      '/v1/models/multi:predict',
      {inputs: {a: [[1, 2, 3]], b: [[1, 2]], flag: [true], zzz: [1]}},
      /unknown input 'zzz'; this model's inputs are 'a', 'b', 'flag'/,
    ],
    ['/v1/models/multi:predict', {inputs: {a: [['x', 2, 3]], b: [[1, 2]], flag: [true]}}, /expected numbers.*float32.*"x"/],
    [
      '/v1/models/multi:predict',
      {
        inputs: {
          a: [
            [1, 2, 3],
            [1, 2],
          ],
          b: [[1, 2]],
          flag: [true],
        },
      },
      /ragged tensor/,
    ],
    ['/v1/models/multi:predict', {inputs: {a: [[1, 2]], b: [[1, 2]], flag: [true]}}, /'a' has shape \[1,2\] but the model expects \[batch, 3\]/],
    [
      '/v1/models/multi:predict',
      {
        inputs: {
          a: [[1, 2, 3]],
          b: [
            [1, 2],
            [3, 4],
          ],
          flag: [true],
        },
      },
      /disagree on the 0th/,
    ],
    [
      '/v1/models/fixed:predict',
      {
        instances: [
          [1, 2, 3, 4],
          [1, 2, 3, 4],
        ],
      },
      /shape \[2,4\] but the model expects \[1, 4\]/,
    ],
    [
      '/v1/models/primary:predict',
      {instances: Array.from({length: 65}, () => nest(new Array(rowLen).fill(0), primary.rowShape))},
      /65 rows is larger than max_batch_size 64/,
    ],
  ]
  for (const [path, body, re] of cases) {
    const r = await post(url(path), body)
    assert.equal(r.status, 400, `${path} ${r.text}`)
    assert.match(r.json.error, re)
  }
  for (const p of ['/v1/models/nope', '/v1/models/nope:predict', '/v1/models/primary/versions/9', '/v1/models/primary/labels/stable', '/v1/nothing']) {
    const r = p.endsWith(':predict') ? await post(url(p), {instances: [1]}) : await get(url(p))
    assert.equal(r.status, 404, p)
    assert.equal(typeof r.json.error, 'string')
  }
  assert.equal((await post(url('/v1/models/primary/versions/9:predict'), {instances: [1]})).status, 404)
  assert.equal((await post(url('/v1/models/primary'), {})).status, 405)
  const huge = await post(url('/v1/models/primary:predict'), 'x'.repeat(2_000_001))
  assert.equal(huge.status, 413)
  assert.match(huge.json.error, /--max-body-bytes \(2000000 bytes\)/)
  assert.equal((await post(url('/v1/models/fixed:classify'), {})).status, 400)
})

test('both metrics paths expose request counts, latency and batch histograms, model state and process metrics', async () => {
  for (const p of ['/metrics', '/monitoring/prometheus/metrics']) {
    const m = (await get(url(p))).text
    assert.ok(metric(m, 'tfsopt_requests_total', {model: 'primary', status: '200'}) >= 2)
    assert.ok(metric(m, 'tfsopt_requests_total', {model: 'multi', status: '400'}) >= 1)
    assert.ok(metric(m, 'tfsopt_request_latency_seconds_count', {model: 'primary'}) >= 2)
    assert.ok(metric(m, 'tfsopt_compute_latency_seconds_count', {model: 'primary'}) >= 2)
    assert.ok(metric(m, 'tfsopt_queue_latency_seconds_count', {model: 'primary'}) >= 2)
    assert.equal(metric(m, 'tfsopt_model_state', {model: 'primary', state: 'AVAILABLE'}), 1)
    assert.equal(metric(m, 'tfsopt_workers', {model: 'fixed'}), 1)
    for (const name of [
      'tfsopt_batch_size_count',
      'tfsopt_batches_total',
      'tfsopt_inferences_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'tfsopt_cache_bytes',
      'tfsopt_cache_entries',
      'tfsopt_inflight_requests',
      'tfsopt_queued_requests',
    ]) {
      assert.ok(!Number.isNaN(metric(m, name)), name)
    }
  }
})
