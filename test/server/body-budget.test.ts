/** The server-wide in-flight body budget: waits briefly, then 503 {"error"}; gauges and refusals exported. */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {connect, type Socket} from 'node:net'
import {join} from 'node:path'
import {get, metric, post, scaleModel, serve, tmp} from './helpers.js'

const dir = tmp()
const scale2 = scaleModel(join(dir, 'scale.onnx'), 2)
const MB = 1 << 20

/** Starts a POST that declares `length` bytes and sends only `sent` of them; resolves once they are out. */
function partialUpload(port: number, length: number, sent: number): Promise<{socket: Socket}> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      const head = `POST /v1/models/s:predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`
      socket.write(Buffer.concat([Buffer.from(head), Buffer.alloc(sent, 0x20)]), () => resolve({socket}))
    })
    socket.on('error', () => {})
  })
}

test('bodies beyond --max-inflight-body-bytes wait, then get 503 {"error"}; the gauge and the refusals are exported', async () => {
  const srv = await serve({models: [{name: 's', path: scale2}], maxBodyBytes: MB, maxInflightBodyBytes: 2 * MB})
  try {
    // Two uploads hold the whole budget (each declared 1 MiB, half sent).
    const a = await partialUpload(srv.port, MB, MB / 2)
    const b = await partialUpload(srv.port, MB, MB / 2)
    let m = ''
    for (let i = 0; i < 50 && metric(m, 'tfsopt_inflight_body_bytes') !== 2 * MB; i++) {
      await new Promise((r) => setTimeout(r, 50))
      m = (await get(`${srv.url}/metrics`)).text
    }
    assert.equal(metric(m, 'tfsopt_inflight_body_bytes'), 2 * MB)
    // A third declared body waits (~2 s) and is refused; a small one too (FIFO, and the budget is full).
    const t0 = Date.now()
    const c = await post(`${srv.url}/v1/models/s:predict`, {instances: [[1, 2, 3, 4]]})
    assert.equal(c.status, 503)
    assert.match(c.json.error, /--max-inflight-body-bytes 2097152 bytes.*retry/)
    assert.ok(Date.now() - t0 >= 1500, 'it waited for room before refusing')
    m = (await get(`${srv.url}/metrics`)).text
    assert.equal(metric(m, 'tfsopt_body_budget_refusals_total'), 1)
    assert.match(m, /^# HELP tfsopt_inflight_body_bytes \S/m)
    // A waiting request gets in as soon as room is made.
    const d = post(`${srv.url}/v1/models/s:predict`, {instances: [[1, 2, 3, 4]]})
    await new Promise((r) => setTimeout(r, 200))
    a.socket.destroy()
    const dr = await d
    assert.equal(dr.status, 200)
    assert.deepEqual(dr.json.predictions, [[2, 4, 6, 8]])
    b.socket.destroy()
    for (let i = 0; i < 50 && metric(m, 'tfsopt_inflight_body_bytes') !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50))
      m = (await get(`${srv.url}/metrics`)).text
    }
    assert.equal(metric(m, 'tfsopt_inflight_body_bytes'), 0, 'released when the requests end')
  } finally {
    await srv.close()
  }
})

test('a chunked body that outgrows the budget is refused with 503 at once', async () => {
  const srv = await serve({models: [{name: 's', path: scale2}], maxBodyBytes: MB, maxInflightBodyBytes: MB})
  try {
    const hold = await partialUpload(srv.port, MB - 1000, 1000)
    const body = `{"instances":[${Array.from({length: 20_000}, () => '[1,2,3,4]').join(',')}]}`
    const r = await fetch(`${srv.url}/v1/models/s:predict`, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: new ReadableStream({
        start(ctl) {
          ctl.enqueue(new TextEncoder().encode(body))
          ctl.close()
        },
      }),
      duplex: 'half',
    } as RequestInit)
    assert.equal(r.status, 503)
    assert.match(((await r.json()) as {error: string}).error, /--max-inflight-body-bytes/)
    hold.socket.destroy()
  } finally {
    await srv.close()
  }
})

test('--max-inflight-body-bytes below --max-body-bytes is a usage error', async () => {
  await assert.rejects(serve({models: [{name: 's', path: scale2}], maxBodyBytes: 2 * MB, maxInflightBodyBytes: MB}), /at least --max-body-bytes/)
})
