/**
 * The hostile-input corpus: a seeded generator of malformed requests for `tfsopt serve`. The same seed
 * gives the same bytes, so a failure found in CI replays locally (TFSOPT_HOSTILE_SEED). Every case is
 * a request a correct server must refuse with a 4xx and {"error": ...} — or, for aborted uploads, one
 * it must survive without answering.
 *
 * It targets three models served side by side (built by harness.ts):
 *   mnist  input float32 [batch, 784]                      → probabilities
 *   multi  a float32 [batch, 3], b int64 [batch, 2], flag bool [batch] → doubled, incremented, negated
 *   text   text string [batch]                              → echo, echo_bytes
 */
import {mulberry32, randomInt, type Rng} from '../../src/stats/prng.js'
import {buildRequest, type RawRequest} from './raw-http.js'

/** How a case travels: pipelined on a shared keep-alive connection, alone, trickled, or cut off. */
export type Delivery = 'pipeline' | 'own-connection' | 'slow' | 'abort'

export interface HostileCase {
  id: number
  category: string
  delivery: Delivery
  bytes: Buffer
  /** For 'abort': how many bytes go out before the reset. */
  abortAt?: number
}

export interface CorpusOptions {
  /** The server's --max-body-bytes (oversize cases are built just above it). */
  maxBodyBytes: number
  /** The server's max_batch_size (the too-large-batch cases use one more row). */
  maxBatchSize: number
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[randomInt(rng, xs.length)]!
const JSON_HEADERS = {'content-type': 'application/json'}
const predict = (model: string) => `/v1/models/${model}:predict`

// ---- valid bodies (the raw material most malformed cases are cut from) ----

export function mnistRow(rng: Rng, len = 784): number[] {
  // Two decimals keep the body small (~3 KB) without changing what the server has to parse.
  return Array.from({length: len}, () => Math.round(rng() * 100) / 100)
}

export function validMnist(rng: Rng, rows = 1): string {
  return JSON.stringify({instances: Array.from({length: rows}, () => mnistRow(rng))})
}

export function validMulti(rng: Rng): string {
  const row = () => ({a: [rng(), rng(), rng()].map((x) => Math.round(x * 1000) / 1000), b: [randomInt(rng, 1000), -randomInt(rng, 1000)], flag: rng() < 0.5})
  return JSON.stringify({instances: [row(), row()]})
}

export function validText(rng: Rng): string {
  const words = ['alpha', 'beta', 'gamma', 'delta']
  return JSON.stringify({instances: [pick(rng, words), {b64: Buffer.from(pick(rng, words)).toString('base64')}]})
}

const req = (r: RawRequest) => buildRequest({headers: JSON_HEADERS, ...r})
const post = (model: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  req({path: predict(model), body, headers: {...JSON_HEADERS, ...headers}})

// ---- generators, one per category; each returns the request bytes ----

type Gen = (rng: Rng, o: CorpusOptions) => Buffer

/** A valid body cut short (never at its full length, so it is never complete). */
const truncated: Gen = (rng) => {
  const [model, body] = rng() < 0.5 ? ['mnist', validMnist(rng)] : ['multi', validMulti(rng)]
  return post(model, body.slice(0, randomInt(rng, body.length)))
}

/**
 * One character replaced by something no JSON grammar allows at that spot. Only bodies without
 * free-text strings are mutated: inside a string a stray '@' would still be valid JSON.
 */
const invalidJson: Gen = (rng) => {
  const literal = [
    '',
    ' ',
    'null',
    '[]',
    '{}',
    '"x"',
    '42',
    'true',
    '{"instances": [1,2,}',
    "{'instances': [[1]]}",
    '{"instances": [1 2]}',
    '{"instances":[[0]]} trailing',
    '{"instances": /* c */ [[0]]}',
    '\ufeff{"instances":[[0]]}',
    '{"instances":[\u0000]}',
    '{"inputs":',
    '{"inputs":[[0.5e]]}',
    '{"inputs":[[--1]]}',
    '{"inputs":[[0x10]]}',
    '{"inputs":[[.5]]}',
    '{"inputs":[[1.]]}',
    '{"inputs":[[+1]]}',
    '{"inputs":[[01]]}',
    '{"inputs":[[nan]]}',
    '{"inputs":[[inf]]}',
  ]
  if (rng() < 0.3) return post(pick(rng, ['mnist', 'multi', 'text']), pick(rng, literal))
  if (rng() < 0.1) return post('mnist', Buffer.concat([Buffer.from('{"instances":[['), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(']]}')]))
  const [model, body] = rng() < 0.5 ? ['mnist', validMnist(rng)] : ['multi', validMulti(rng)]
  const i = randomInt(rng, body.length)
  const bad = pick(
    rng,
    ['@', '#', '\u0000', ':', '}}', ']]]', ',,'].filter((c) => c !== body[i]),
  )
  return post(model, body.slice(0, i) + bad + body.slice(i + 1))
}

const wrongType: Gen = (rng) => {
  const row = JSON.stringify(mnistRow(rng))
  const cases: [string, string][] = [
    ['mnist', '{"instances": "abc"}'],
    ['mnist', '{"instances": 5}'],
    ['mnist', '{"instances": {}}'],
    ['mnist', '{"instances": null}'],
    ['mnist', '{"instances": true}'],
    ['mnist', '{"inputs": "x"}'],
    ['mnist', '{"inputs": null}'],
    ['mnist', '{"inputs": true}'],
    ['mnist', `{"instances": [${row.replace(/^\[[^,]+,/, '["0.5",')}]}`],
    ['mnist', `{"instances": [${row.replace(/^\[[^,]+,/, '[{},')}]}`],
    ['mnist', `{"instances": [${row.replace(/^\[[^,]+,/, '[null,')}]}`],
    ['mnist', `{"instances": [${row.replace(/^\[[^,]+,/, '[true,')}]}`],
    ['mnist', `{"instances": [${row}], "signature_name": 5}`],
    ['mnist', `{"instances": [${row}], "signature_name": {}}`],
    ['mnist', `{"instances": [${row}], "signature_name": "predict_images"}`],
    ['mnist', `{"instances": [${row}], "inputs": [${row}]}`],
    ['mnist', `[{"instances": [${row}]}]`],
    ['mnist', `{"instances": []}`],
    ['mnist', `{"signature_name": "serving_default"}`],
    ['multi', '{"instances": [{"a": [1,2,3], "b": [1,2], "flag": 1}]}'],
    ['multi', '{"instances": [{"a": [1,2,3], "b": [1.5,2], "flag": true}]}'],
    ['multi', '{"instances": [{"a": [1,2,3], "b": ["7",2], "flag": true}]}'],
    ['multi', '{"instances": [{"a": [true,2,3], "b": [1,2], "flag": true}]}'],
    ['multi', '{"inputs": {"a": [[1,2,3]], "b": [[1,2]], "flag": ["yes"]}}'],
    ['multi', '{"instances": [[1,2,3]]}'],
    ['multi', '{"instances": [{"a": [1,2,3], "b": [1,2], "flag": true}, [1,2,3]]}'],
    ['text', '{"instances": [1, 2]}'],
    ['text', '{"instances": [{"b64": 5}]}'],
    ['text', '{"instances": [{"b64": null}]}'],
    ['text', '{"instances": [["a"], "b"]}'],
    ['text', '{"instances": [true]}'],
  ]
  const [model, body] = pick(rng, cases)
  return post(model, body)
}

/** Lists nested thousands deep: the parser and the tensor decoder must not recurse without bound. */
const deepNesting: Gen = (rng) => {
  const depth = Math.round(Math.exp(Math.log(40) + rng() * (Math.log(20_000) - Math.log(40))))
  const leaf = pick(rng, ['', '0', '1.5', 'true', '"x"'])
  const body = `{"${rng() < 0.5 ? 'instances' : 'inputs'}":${'['.repeat(depth)}${leaf}${']'.repeat(depth)}}`
  return post(pick(rng, ['mnist', 'multi', 'text']), body)
}

/** Integers an int64 tensor cannot hold, and number tokens that no tensor should accept. */
const hugeNumbers: Gen = (rng) => {
  const big = pick(rng, [
    '1e400',
    '-1e400',
    '9.3e18',
    '18446744073709551616',
    '-9223372036854775809',
    '9223372036854775808',
    '1e30',
    `1${'0'.repeat(400 + randomInt(rng, 4000))}`,
    `-${'9'.repeat(30)}`,
    '123456789012345678901234567890.5',
  ])
  return post('multi', `{"instances": [{"a": [1,2,3], "b": [${big}, 1], "flag": true}]}`)
}

/** NaN and the infinities where TF Serving accepts them only as float values: here they are not. */
const nanInf: Gen = (rng) => {
  const v = pick(rng, ['NaN', 'Infinity', '-Infinity'])
  const cases: [string, string][] = [
    ['multi', `{"instances": [{"a": [1,2,3], "b": [${v}, 1], "flag": true}]}`],
    ['multi', `{"instances": [{"a": [1,2,3], "b": [1, 2], "flag": ${v}}]}`],
    ['text', `{"instances": [${v}]}`],
    ['mnist', `{"instances": ${v}}`],
    ['mnist', `{"inputs": ${v}}`],
    ['mnist', v],
    ['mnist', `{"instances": [[1]], "signature_name": ${v}}`],
    ['multi', `{"inputs": {"a": [[1,2,3]], "b": [[1,${v}]], "flag": [true]}}`],
    ['text', `{"instances": [{"b64": ${v}}]}`],
  ]
  const [model, body] = pick(rng, cases)
  return post(model, body)
}

const ragged: Gen = (rng) => {
  const n = 2 + randomInt(rng, 3)
  const rows = Array.from({length: n}, () => mnistRow(rng, 8))
  const k = randomInt(rng, n)
  const variant = randomInt(rng, 3)
  let body: string
  if (variant === 0) {
    const r = JSON.stringify(rows.map((x, i) => (i === k ? x.slice(0, 7) : x)).map((x) => [...x, ...Array(776).fill(0)]))
    body = `{"instances": ${r}}`
  } else if (variant === 1) body = '{"instances": [{"a": [1,2,3], "b": [1,2], "flag": true}, {"a": [1,2], "b": [1,2], "flag": false}]}'
  else body = '{"inputs": {"a": [[1,2,3],[4,[5],6]], "b": [[1,2],[3,4]], "flag": [true,false]}}'
  return post(variant === 0 ? 'mnist' : 'multi', body)
}

const wrongShape: Gen = (rng, o) => {
  const v = randomInt(rng, 8)
  if (v === 0) return post('mnist', JSON.stringify({instances: [mnistRow(rng, 783)]}))
  if (v === 1) return post('mnist', JSON.stringify({instances: [mnistRow(rng, 785)]}))
  if (v === 2) return post('mnist', JSON.stringify({instances: mnistRow(rng)}))
  if (v === 3) return post('mnist', JSON.stringify({inputs: [[mnistRow(rng, 28)]]}))
  if (v === 4) return post('mnist', JSON.stringify({inputs: [[mnistRow(rng)]]}))
  if (v === 5) return post('mnist', validMnist(rng, o.maxBatchSize + 1))
  if (v === 6) return post('multi', '{"inputs": {"a": [[1,2,3,4]], "b": [[1,2]], "flag": [true]}}')
  return post('multi', '{"inputs": {"a": [[1,2,3]], "b": [[1,2],[3,4]], "flag": [true]}}')
}

const BIN = 'application/octet-stream'
const floatBytes = (n: number) => Buffer.alloc(n * 4)

/** JSON values of the wrong kind, and binary bodies declaring the wrong dtype. */
const wrongDtype: Gen = (rng) => {
  const v = randomInt(rng, 6)
  if (v === 0) return post('mnist', Buffer.alloc(784 * 4), {'content-type': BIN, 'x-tfsopt-tensors': 'input:int32:1x784'})
  if (v === 1) return post('mnist', Buffer.alloc(784 * 8), {'content-type': BIN, 'x-tfsopt-tensors': 'input:float64:1x784'})
  if (v === 2) return post('multi', '{"instances": [{"a": ["1","2","3"], "b": [1,2], "flag": true}]}')
  if (v === 3) return post('mnist', `{"instances": [[${Array(784).fill('{"b64": "AAAA"}').join(',')}]]}`)
  if (v === 4) return post('multi', Buffer.alloc(3 * 4 + 2 * 8 + 1), {'content-type': BIN, 'x-tfsopt-tensors': 'a:float32:1x3,b:int32:1x2,flag:bool:1'})
  return post('text', Buffer.alloc(4), {'content-type': BIN, 'x-tfsopt-tensors': 'text:string:1'})
}

const unknownInput: Gen = (rng) => {
  const name = pick(rng, ['inputx', 'Input', 'x', '', '__proto__', 'constructor', 'a'.repeat(300)])
  const v = randomInt(rng, 4)
  if (v === 0) return post('mnist', JSON.stringify({inputs: {[name]: [mnistRow(rng)]}}))
  if (v === 1) return post('multi', JSON.stringify({instances: [{a: [1, 2, 3], b: [1, 2], flag: true, [name || 'zz']: 1}]}))
  if (v === 2) return post('multi', '{"instances": [{"a": [1,2,3], "b": [1,2]}]}')
  return post('multi', '{"inputs": {"a": [[1,2,3]], "flag": [true]}}')
}

/** Models, versions, labels and endpoints that do not exist; methods the endpoint does not take. */
const unknownTarget: Gen = (rng) => {
  const body = validMulti(rng)
  const word = pick(rng, ['nope', 'mnist2', 'MNIST', 'multi_', 'x'.repeat(1 + randomInt(rng, 200)), 'm%C3%A9', 'mn%20ist'])
  const v = randomInt(rng, 14)
  if (v === 0) return post(word, body)
  if (v === 1) return req({path: `/v1/models/multi/versions/${pick(rng, ['2', '0', '999999', '99999999999999999999'])}:predict`, body})
  if (v === 2) return req({path: `/v1/models/multi/versions/${pick(rng, ['abc', '-1', '1.5', '1e3', '0x1', ' 1'])}:predict`.replace(' ', '%20'), body})
  if (v === 3)
    return req({path: `/v1/models/multi/labels/${pick(rng, ['stable', 'canary', '__proto__', 'constructor', 'toString', 'hasOwnProperty'])}:predict`, body})
  if (v === 4) return req({path: `/v1/models/multi:${pick(rng, ['classify', 'regress', 'explode', 'PREDICT', 'predict2'])}`, body})
  if (v === 5) return req({method: 'GET', path: '/v1/models/multi:predict'})
  if (v === 6) return req({method: pick(rng, ['PUT', 'DELETE', 'PATCH']), path: '/v1/models/multi:predict', body})
  if (v === 7) return req({method: 'POST', path: pick(rng, ['/v1/models/multi', '/v1/models/multi/metadata', '/metrics'])})
  if (v === 8)
    return req({
      method: 'GET',
      path: pick(rng, [
        '/v3/models/multi',
        '/v2/models/multi/explain',
        '/v1/models',
        '/v1/models/',
        '/',
        '/v1',
        '/v1/models/multi/versions',
        '/v1/models/multi/metadata/x',
      ]),
    })
  if (v === 9) return req({method: 'GET', path: `/v1/models/${word}/metadata`})
  if (v === 10) return req({method: 'GET', path: `/v1/models/multi/labels/${pick(rng, ['nope', '__proto__', 'valueOf'])}`})
  if (v === 11) return req({method: 'POST', path: '/v1/_test/kill-worker'})
  if (v === 12)
    return req({path: `/v1/models/multi:predict`, body: JSON.stringify({...JSON.parse(body), signature_name: pick(rng, ['predict', 'serving', '__proto__'])})})
  return req({method: 'GET', path: `/v1/models/multi/versions/${pick(rng, ['7', '0'])}/metadata`})
}

const PATH_TRICKS = [
  '..%2F..%2Fetc%2Fpasswd',
  '%2Fetc%2Fpasswd',
  '..%2Ffixtures%2Fmodels%2Fmnist-mlp.onnx',
  'mnist-mlp.onnx',
  'mnist-mlp',
  'fixtures%2Fmodels%2Fmnist-mlp.onnx',
  'mnist%00',
  '..%5C..%5Cwindows%5Cwin.ini',
  '%252e%252e%252fetc%252fpasswd',
  '%2e%2e',
  '.',
  '..',
  'mnist%2F..%2Fmnist',
  '~root',
  '%2Fproc%2Fself%2Fenviron',
  'file%3A%2F%2F%2Fetc%2Fpasswd',
  'C%3A%5Cmodels',
  'mnist%0D%0AX-Injected%3A%201',
  '%E0%A4%A',
  '%',
]

/** Model names, versions and labels that try to become file paths. */
const pathTricks: Gen = (rng) => {
  const t = pick(rng, PATH_TRICKS)
  const v = randomInt(rng, 6)
  if (v === 0) return post(t, validMulti(rng))
  if (v === 1) return req({method: 'GET', path: `/v1/models/${t}`})
  if (v === 2) return req({method: 'GET', path: `/v1/models/${t}/metadata`})
  if (v === 3) return req({path: `/v1/models/mnist/versions/${t}:predict`, body: validMnist(rng)})
  if (v === 4) return req({path: `/v1/models/mnist/labels/${t}:predict`, body: validMnist(rng)})
  return req({
    method: 'GET',
    path: pick(rng, [
      '/v1/models/mnist/../../etc/passwd',
      '/../../../etc/passwd',
      '/v1/models/./mnist',
      '//v1/models/mnist',
      '/v1/models/mnist/versions/1/../2',
    ]),
  })
}

/** base64 that does not decode: TF Serving answers 400 ("Unable to base64 decode"). */
const badB64: Gen = (rng) => {
  const b = pick(rng, ['!!!!', 'A', 'AB=C', '====', 'YWJj$', 'a b c', '\u00e9\u00e9\u00e9\u00e9', 'YW=Jj', 'Y', '%%%%'])
  if (rng() < 0.3) return post('mnist', `{"instances": [{"b64": ${JSON.stringify(b)}}]}`)
  return post('text', JSON.stringify({instances: [{b64: b}]}))
}

/** The X-Tfsopt-Tensors framing of binary bodies, wrong in every way it can be. */
const badBinaryHeader: Gen = (rng) => {
  const cases: [string, string | undefined, Buffer][] = [
    ['mnist', undefined, floatBytes(784)],
    ['mnist', '', floatBytes(784)],
    ['mnist', 'input', floatBytes(784)],
    ['mnist', 'input:float32', floatBytes(784)],
    ['mnist', 'input:float99:1x784', floatBytes(784)],
    ['mnist', 'input:float32:1x784', floatBytes(783)],
    ['mnist', 'input:float32:1x784', floatBytes(785)],
    ['mnist', 'input:float32:1x-784', floatBytes(784)],
    ['mnist', 'input:float32:99999999999999x784', floatBytes(4)],
    ['mnist', 'input:float32:1e400x784', floatBytes(4)],
    ['mnist', '%E0%A4%A:float32:1x784', floatBytes(784)],
    ['mnist', '%:float32:1x784', floatBytes(784)],
    ['mnist', 'nope:float32:1x784', floatBytes(784)],
    ['mnist', 'input:float32:1x784,input:float32:1x784', floatBytes(784 * 2)],
    ['mnist', 'input:float32:1x28x28', floatBytes(784)],
    ['mnist', 'input:float32:784', floatBytes(784)],
    ['mnist', 'input:float32:', floatBytes(1)],
    ['mnist', 'input:float32:0x784', floatBytes(0)],
    ['mnist', 'input:float32:1xx784', floatBytes(784)],
    ['mnist', ',,,', floatBytes(784)],
    ['mnist', 'input:float32:1x784;', floatBytes(784)],
    ['multi', 'a:float32:1x3', floatBytes(3)],
    ['multi', 'a:float32:1x3,b:int64:1x2,flag:bool:2', Buffer.alloc(12 + 16 + 2)],
    ['text', 'text:string:1', Buffer.from('abcd')],
  ]
  const [model, header, body] = pick(rng, cases)
  const headers: Record<string, string> = {'content-type': BIN}
  if (header !== undefined) headers['x-tfsopt-tensors'] = header
  return post(model, body, headers)
}

/** Bodies above --max-body-bytes: declared (body never sent), sent in full, or sent chunked. */
const oversize: Gen = (rng, o) => {
  const v = randomInt(rng, 3)
  if (v === 0)
    return Buffer.concat([
      buildRequest({path: predict('mnist'), headers: {...JSON_HEADERS, 'content-length': String(o.maxBodyBytes + 1 + randomInt(rng, 1e9))}}),
      Buffer.from('{"instances":'),
    ])
  const body = Buffer.alloc(o.maxBodyBytes + 1 + randomInt(rng, 4096), 0x20)
  if (v === 1) return post('mnist', body)
  const chunks = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
  return buildRequest({path: predict('mnist'), headers: {...JSON_HEADERS, 'transfer-encoding': 'chunked'}, body: chunks})
}

/** Requests that break HTTP itself (the parser must answer 4xx, not hang or crash). */
const httpFraming: Gen = (rng) => {
  const b = validMulti(rng)
  return Buffer.from(
    pick(rng, [
      'HELLO\r\n\r\n',
      'GET /healthz HTTP/9.9\r\nhost: x\r\n\r\n',
      `POST ${predict('multi')} HTTP/1.1\r\nhost: x\r\nbad header: x\r\n\r\n`,
      `POST ${predict('multi')} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n`,
      `POST ${predict('multi')} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n123456`,
      `POST ${predict('multi')} HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n`,
      `POST ${predict('multi')} HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n${b}\r\n0\r\n\r\n`,
      `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      `GET /v1/models/multi\u0000 HTTP/1.1\r\nhost: x\r\n\r\n`,
      `POST ${predict('multi')} HTTP/1.1\r\nhost: x\r\ncontent-length: 1${'0'.repeat(30)}\r\n\r\n`,
    ]),
    'latin1',
  )
}

/** A malformed body trickled in slowly: still answered 4xx once it is complete. */
const slowBad: Gen = (rng) => truncated(rng, {maxBodyBytes: 0, maxBatchSize: 0})

/** Any request (valid or not), cut off part-way and reset. */
const aborted: Gen = (rng) => post(rng() < 0.5 ? 'mnist' : 'multi', rng() < 0.5 ? validMnist(rng) : validMulti(rng))

interface CategorySpec {
  name: string
  weight: number
  delivery: Delivery
  gen: Gen
}

export const CATEGORIES: CategorySpec[] = [
  {name: 'truncated-json', weight: 12, delivery: 'pipeline', gen: truncated},
  {name: 'invalid-json', weight: 12, delivery: 'pipeline', gen: invalidJson},
  {name: 'wrong-type', weight: 10, delivery: 'pipeline', gen: wrongType},
  {name: 'deep-nesting', weight: 5, delivery: 'pipeline', gen: deepNesting},
  {name: 'huge-number', weight: 6, delivery: 'pipeline', gen: hugeNumbers},
  {name: 'nan-infinity', weight: 6, delivery: 'pipeline', gen: nanInf},
  {name: 'ragged', weight: 6, delivery: 'pipeline', gen: ragged},
  {name: 'wrong-shape', weight: 6, delivery: 'pipeline', gen: wrongShape},
  {name: 'wrong-dtype', weight: 6, delivery: 'pipeline', gen: wrongDtype},
  {name: 'unknown-input', weight: 5, delivery: 'pipeline', gen: unknownInput},
  {name: 'unknown-target', weight: 8, delivery: 'pipeline', gen: unknownTarget},
  {name: 'path-trick', weight: 6, delivery: 'pipeline', gen: pathTricks},
  {name: 'bad-b64', weight: 3, delivery: 'pipeline', gen: badB64},
  {name: 'bad-binary-header', weight: 5, delivery: 'pipeline', gen: badBinaryHeader},
  {name: 'oversize', weight: 1.5, delivery: 'own-connection', gen: oversize},
  {name: 'http-framing', weight: 1.5, delivery: 'own-connection', gen: httpFraming},
  {name: 'slow-upload', weight: 0.3, delivery: 'slow', gen: slowBad},
  {name: 'aborted-upload', weight: 1, delivery: 'abort', gen: aborted},
]

/** `count` cases from `seed`; the same arguments always give the same bytes. */
export function generateCorpus(seed: number, count: number, o: CorpusOptions): HostileCase[] {
  const rng = mulberry32(seed)
  const total = CATEGORIES.reduce((a, c) => a + c.weight, 0)
  const out: HostileCase[] = []
  for (let id = 0; id < count; id++) {
    let x = rng() * total
    let cat = CATEGORIES[0]!
    for (const c of CATEGORIES) {
      if ((x -= c.weight) < 0) {
        cat = c
        break
      }
    }
    const bytes = cat.gen(rng, o)
    const hc: HostileCase = {id, category: cat.name, delivery: cat.delivery, bytes}
    if (cat.delivery === 'abort') hc.abortAt = 1 + randomInt(rng, bytes.length - 1)
    out.push(hc)
  }
  return out
}
