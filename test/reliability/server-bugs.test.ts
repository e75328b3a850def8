/**
 * One small request per bug the hostile corpus found (docs/RELIABILITY.md, B1–B5), so a fix can be
 * checked in a second without running the 10,000 cases. Each must be answered 4xx with {"error"}.
 */
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {startChildServer, textModel, tmp, type ChildServer} from './harness.js'
import {buildRequest, once, type RawResponse} from './raw-http.js'

const BIN = {'content-type': 'application/octet-stream'}

function expect4xxJson(r: RawResponse, what: string): void {
  const text = r.body.toString('utf8')
  assert.ok(r.status >= 400 && r.status < 500, `${what}: answered ${r.status} ${text.slice(0, 160)}`)
  let error: unknown
  try {
    error = JSON.parse(text).error
  } catch {
    error = undefined
  }
  assert.equal(typeof error, 'string', `${what}: ${r.status} without a JSON {"error"} body (${JSON.stringify(text.slice(0, 80))})`)
}

describe('server bugs found by the hostile corpus', {timeout: 60_000}, () => {
  let srv: ChildServer
  before(async () => {
    srv = await startChildServer({
      models: [
        {name: 'mnist', path: DEFAULT_MODEL},
        {name: 'text', path: textModel(join(tmp(), 'text.onnx'))},
      ],
    })
  })
  after(() => srv?.stop())

  const post = (model: string, body: string | Buffer, headers: Record<string, string> = {'content-type': 'application/json'}) =>
    once(srv.port, buildRequest({path: `/v1/models/${model}:predict`, body, headers}))

  it('B1: invalid base64 in {"b64": ...} is refused (TF Serving: 400)', async () => {
    for (const b of ['!!!!', '====', 'AB=C', 'YW=Jj', 'A'])
      expect4xxJson(await post('text', JSON.stringify({instances: [{b64: b}]})), `b64 ${JSON.stringify(b)}`)
  })

  it('B2: NaN as a b64 value is refused', async () => {
    expect4xxJson(await post('text', '{"instances": [{"b64": NaN}]}'), '{"b64": NaN}')
  })

  it('B3: a malformed percent-escape in an X-Tfsopt-Tensors name is a 400, not a 500', async () => {
    for (const name of ['%', '%E0%A4%A'])
      expect4xxJson(await post('mnist', Buffer.alloc(784 * 4), {...BIN, 'x-tfsopt-tensors': `${name}:float32:1x784`}), `name ${name}`)
  })

  it('B4: a tensor named twice in X-Tfsopt-Tensors is refused', async () => {
    expect4xxJson(await post('mnist', Buffer.alloc(784 * 8), {...BIN, 'x-tfsopt-tensors': 'input:float32:1x784,input:float32:1x784'}), 'duplicate name')
  })

  it('B5: broken HTTP framing gets a 4xx with a JSON {"error"} body', async () => {
    const cases = [
      'HELLO\r\n\r\n',
      'POST /v1/models/mnist:predict HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
    ]
    for (const c of cases) expect4xxJson(await once(srv.port, Buffer.from(c, 'latin1')), JSON.stringify(c.slice(0, 40)))
  })
})
