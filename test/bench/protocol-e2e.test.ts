/**
 * `tfsopt bench --protocol` end to end through the CLI, against the built-in server: every protocol is a
 * client variant of its own, its requests reach the same model (counted by the server's own metrics),
 * and a protocol the target cannot be reached with is a usage error before anything is measured.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {DEFAULT_MODEL} from '../../src/fixtures.ts'

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--no-warnings', 'bin/dev.js', 'bench', ...args], {encoding: 'utf8', timeout: 120_000})
const skip = existsSync(DEFAULT_MODEL) ? false : 'the default model is missing'

interface Point {
  id: string
  config: {client: {protocol?: string; concurrency?: number; rate?: number}}
  throughput: number
  errors: {total: number}
  server?: {requestsByStatus?: Record<string, number>}
}

test('--protocol tfs-rest,tfs-grpc,v2-rest-binary,v2-grpc measures each protocol as its own points, every request answered', {skip}, () => {
  const r = cli([
    '--concurrency',
    '2',
    '--rate',
    '40',
    '--protocol',
    'tfs-rest,grpc,v2-rest-binary,v2-grpc',
    '--max-batch-size',
    '1',
    '--duration=0.5',
    '--warmup=0.2',
    '--windows=1',
    '--max-windows=1',
    '--json',
  ])
  assert.equal(r.status, 0, r.stderr)
  const run = JSON.parse(r.stdout) as {settings: {protocol: string[]}; points: Point[]}
  // "grpc" is the alias of tfs-grpc; TF Serving REST points keep their unnamed ids (baselines still match).
  assert.deepEqual(run.settings.protocol, ['tfs-rest', 'tfs-grpc', 'v2-rest-binary', 'v2-grpc'])
  assert.equal(run.points.length, 8)
  const byProtocol = new Map<string, Point[]>()
  for (const p of run.points) {
    const k = p.config.client.protocol ?? 'tfs-rest'
    byProtocol.set(k, [...(byProtocol.get(k) ?? []), p])
  }
  assert.deepEqual([...byProtocol.keys()], ['tfs-rest', 'tfs-grpc', 'v2-rest-binary', 'v2-grpc'])
  assert.ok(!run.points.find((p) => p.config.client.protocol === undefined)!.id.includes('protocol='))
  for (const [k, pts] of byProtocol) {
    assert.equal(pts.length, 2, k)
    for (const p of pts) {
      assert.equal(p.errors.total, 0, `${p.id}: errors`)
      assert.ok(p.throughput > 0, `${p.id}: no throughput`)
      // The server counted the measured requests as 200s: the load really went through that protocol's front.
      assert.ok((p.server?.requestsByStatus?.['200'] ?? 0) > 0, `${p.id}: the server counted no answered request`)
      if (k !== 'tfs-rest') assert.match(p.id, new RegExp(`protocol=${k}$`))
    }
  }
  // The open-loop gRPC point kept its rate (~40/s) rather than running flat out.
  const open = byProtocol.get('tfs-grpc')!.find((p) => p.config.client.rate === 40)!
  assert.ok(open.throughput > 20 && open.throughput < 60, `open-loop gRPC at 40/s measured ${open.throughput}/s`)
})

test('bad --protocol values and a gRPC protocol against --url without --grpc-target exit 2 saying what to give', () => {
  for (const [args, message] of [
    [['--concurrency', '1', '--protocol', 'soap'], /--protocol must be one of tfs-rest, tfs-grpc, v2-rest, v2-rest-binary, v2-grpc/],
    [['--url', 'http://127.0.0.1:9', '--model-name', 'm', '--concurrency', '1', '--protocol', 'tfs-grpc'], /needs --grpc-target HOST:PORT/],
    [
      ['--url', 'http://127.0.0.1:9', '--model-name', 'm', '--concurrency', '1', '--protocol', 'v2-grpc', '--grpc-target', 'nohost'],
      /--grpc-target must be HOST:PORT/,
    ],
    [['--concurrency', '1', '--grpc-target', '127.0.0.1:8500'], /--grpc-target names an external server's gRPC port/],
  ] as const) {
    const r = cli([...args])
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
  }
})
