/**
 * Warm-up files shipped with a version: a JSON-lines file of REST predict bodies and TF Serving's TFRecord
 * of PredictionLogs (written here with the server's own framing and a hand-built PredictionLog), replayed by
 * every worker before the version is AVAILABLE. A failing request or a corrupt record fails that version's
 * load, with the file and record in the status, while another version keeps serving.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {create, toBinary} from '@bufbuild/protobuf'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {PredictRequestSchema} from '../../src/server/grpc/gen/tensorflow_serving/apis/predict_pb.js'
import {tensorToProto} from '../../src/server/grpc/tensor-proto.js'
import {WARMUP_JSONL, WARMUP_TFRECORD, crc32c, predictLogFeeds, readTfRecords, writeTfRecords} from '../../src/server/warmup-file.js'
import {get, post, serve, tmp} from './helpers.js'

const row = Array.from({length: 784}, (_, i) => (i % 5) / 5)

/** A PredictionLog with predict_log.request set: field 6 → field 1 → PredictRequest bytes. */
function predictionLog(): Uint8Array {
  const req = toBinary(
    PredictRequestSchema,
    create(PredictRequestSchema, {
      modelSpec: {name: 'w'},
      inputs: {input: tensorToProto({dtype: 'float32', dims: [1, 784], data: Float32Array.from(row)}, {tensorContent: true})},
    }),
  )
  const wrap = (tag: number, body: Uint8Array) => {
    const len: number[] = []
    let n = body.length
    while (n > 127) {
      len.push((n & 0x7f) | 0x80)
      n >>>= 7
    }
    len.push(n)
    return Uint8Array.from([tag, ...len, ...body])
  }
  return wrap(0x32, wrap(0x0a, req))
}

test('CRC-32C matches the standard check value; records round-trip and a flipped byte is refused', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  const file = writeTfRecords([Buffer.from('abc'), predictionLog()])
  const recs = readTfRecords(file, 'f')
  assert.equal(recs.length, 2)
  assert.equal(recs[0]!.toString(), 'abc')
  assert.deepEqual([...predictLogFeeds(recs[1]!, 'r').input!.dims], [1, 784])
  const bad = Buffer.from(file)
  bad[13] = bad[13]! ^ 1
  assert.throws(() => readTfRecords(bad, 'f'), /record 1 is corrupt \(the data CRC does not match\)/)
  const badLen = Buffer.from(file)
  badLen[0] = badLen[0]! ^ 1
  assert.throws(() => readTfRecords(badLen, 'f'), /the length CRC does not match/)
})

test('a version runs its JSON-lines and TFRecord warm-up before it is AVAILABLE; a failing one does not become AVAILABLE', async () => {
  const base = tmp('tfsopt-warmup-')
  const version = (v: number, files: Record<string, string | Buffer>) => {
    const d = join(base, String(v))
    mkdirSync(join(d, 'assets.extra'), {recursive: true})
    copyFileSync(DEFAULT_MODEL, join(d, 'model.onnx'))
    for (const [f, body] of Object.entries(files)) writeFileSync(join(d, f), body)
  }
  const jsonl = `${JSON.stringify({instances: [row]})}\n\n${JSON.stringify({inputs: [row, row]})}\n`
  version(1, {[WARMUP_JSONL]: jsonl, [WARMUP_TFRECORD]: writeTfRecords([predictionLog()])})
  version(2, {[WARMUP_JSONL]: `${JSON.stringify({instances: [[1, 2, 3]]})}\n`})
  const bad = writeTfRecords([predictionLog()])
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff
  version(3, {[WARMUP_TFRECORD]: bad})
  const lines: string[] = []
  const srv = await serve({models: [{name: 'w', path: base, policy: {all: {}}}], log: (l) => lines.push(l)})
  try {
    assert.ok(
      lines.some((l) => /w: version 1 is AVAILABLE \(.*after 3 warm-up request\(s\)\)/.test(l)),
      lines.join('\n'),
    )
    const st = (await get(`${srv.url}/v1/models/w`)).json.model_version_status as {version: string; state: string; status: {error_message: string}}[]
    const by = (v: string) => st.find((x) => x.version === v)!
    assert.equal(by('1').state, 'AVAILABLE')
    assert.equal(by('2').state, 'END')
    assert.match(by('2').status.error_message, /warm-up request .*tfsopt_warmup\.jsonl line 1 failed: .*784/)
    assert.equal(by('3').state, 'END')
    assert.match(by('3').status.error_message, /tf_serving_warmup_requests: record 1 is corrupt \(the data CRC does not match\)/)
    assert.equal((await post(`${srv.url}/v1/models/w/versions/1:predict`, {instances: [row]})).status, 200)
  } finally {
    await srv.close()
  }
})
