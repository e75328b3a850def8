/**
 * A small TF-Serving-compatible server on node:http for the generator tests: a fixed service delay,
 * c parallel "workers" (a FIFO gate), status/metadata/metrics endpoints, and switches for failures.
 * Real sockets on 127.0.0.1, so the load generators are exercised end to end.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'

export interface FakeOptions {
  delayMs?: number
  workers?: number
  status?: number
  /** Hang without answering (for timeouts). */
  hang?: boolean
}

export async function startFake(o: FakeOptions = {}) {
  let busy = 0
  const queue: Array<() => void> = []
  let requests = 0
  const workers = o.workers ?? 1
  const release = () => {
    busy--
    const next = queue.shift()
    if (next) {
      busy++
      next()
    }
  }
  const server = http.createServer((req, res) => {
    const url = req.url ?? ''
    if (req.method === 'GET' && url === '/v1/models/fake') {
      res.end(JSON.stringify({model_version_status: [{version: '1', state: 'AVAILABLE', status: {error_code: 'OK', error_message: ''}}]}))
      return
    }
    if (req.method === 'GET' && url === '/v1/models/fake/metadata') {
      res.end(
        JSON.stringify({
          model_spec: {name: 'fake', version: '1'},
          metadata: {signature_def: {signature_def: {serving_default: {inputs: {x: {dtype: 'DT_FLOAT', tensor_shape: {dim: [{size: '-1'}, {size: '4'}]}}}}}}},
        }),
      )
      return
    }
    if (req.method === 'GET' && url === '/metrics') {
      res.end(
        `# HELP tfsopt_requests_total x\ntfsopt_requests_total{model="fake",version="1",status="200"} ${requests}\nprocess_cpu_seconds_total ${process.cpuUsage().user / 1e6}\n`,
      )
      return
    }
    if (req.method === 'POST' && url === '/v1/models/fake:predict') {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        if (o.hang) return
        const run = () =>
          setTimeout(() => {
            requests++
            release()
            const n = (JSON.parse(body) as {instances: unknown[]}).instances.length
            res.statusCode = o.status ?? 200
            res.end(JSON.stringify({predictions: Array.from({length: n}, () => [0.5])}))
          }, o.delayMs ?? 2)
        if (busy < workers) {
          busy++
          run()
        } else queue.push(run)
      })
      return
    }
    res.statusCode = 404
    res.end('{"error":"not found"}')
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
