/**
 * Scenario 9 — encrypted versions under load. A base path serves version 1 as an encrypted model
 * (1/model.onnx.enc, y = x) while 6 clients predict. Then, staged and renamed into place: version 2
 * encrypted with another key, version 3 encrypted with the right key but one ciphertext byte flipped,
 * and version 4 encrypted properly (y = 4x). Expect: no failed request; v2 and v3 refused with
 * E_WRONG_KEY / E_TAMPERED messages in GET /v1/models/{name} while v1 keeps serving; v4 then serves.
 */
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {seal} from '../../src/models/sealed/container.js'
import {countBy, exclusive, report, runLoad, scaleModel, sleep, settledStatus, startChildServer, tmp, type ChildServer, type Sample} from './harness.js'

const X = [1, 2, 3, 4]
const BODY = JSON.stringify({instances: [X]})
const KEY = randomBytes(32)
const scaleOf = (s: Sample): number => {
  try {
    return JSON.parse(s.text).predictions[0][3] / X[3]!
  } catch {
    return NaN
  }
}

/** An encrypted y = scale·x model in `dir`, sealed with `key`; `tamper` flips one ciphertext byte. */
function sealedVersion(dir: string, scale: number, key: Buffer, tamper = false): void {
  const plain = join(tmp(), 'model.onnx')
  scaleModel(plain, scale)
  const bytes = seal({format: 'onnx', main: 'model.onnx', name: 'model.onnx'}, [{name: 'model.onnx', bytes: readFileSync(plain)}], key)
  rmSync(plain)
  if (tamper) bytes[bytes.length - 40]! ^= 0x01
  writeFileSync(join(dir, 'model.onnx.enc'), bytes)
}

describe('encrypted versions under load: wrong key and tampered file refused, serving goes on', {timeout: 300_000}, () => {
  let srv: ChildServer
  let samples: Sample[] = []
  const at: Record<string, number> = {}
  const statusAfter: Record<string, any> = {}
  let stopCode: number | null = null

  before(() =>
    exclusive(async () => {
      const base = tmp()
      mkdirSync(join(base, '1'))
      sealedVersion(join(base, '1'), 1, KEY)
      srv = await startChildServer({models: [{name: 'scale', path: base}], pollSeconds: 0.25, workers: 1}, {TFSOPT_MODEL_KEY: KEY.toString('hex')})
      const t0 = performance.now()
      const load = runLoad({url: `${srv.url}/v1/models/scale:predict`, body: () => BODY, concurrency: 6, durationMs: 7000, maxRequests: 200_000, t0})
      const stage = async (v: number, write: (dir: string) => void) => {
        const dir = join(base, `.staging-${v}`)
        mkdirSync(dir)
        write(dir)
        renameSync(dir, join(base, String(v)))
        at[v] = performance.now() - t0
        await sleep(1500)
        statusAfter[v] = await settledStatus(`${srv.url}/v1/models/scale`, v)
      }
      await sleep(1000)
      await stage(2, (d) => sealedVersion(d, 2, randomBytes(32)))
      await stage(3, (d) => sealedVersion(d, 3, KEY, true))
      await stage(4, (d) => sealedVersion(d, 4, KEY))
      samples = (await load).samples
      stopCode = await srv.stop()
    }),
  )

  after(async () => {
    if (srv?.alive()) await srv.stop()
    report('encrypted-versions', {
      requests: samples.length,
      statuses: countBy(samples, (s) => s.status || s.text),
      answersByVersion: countBy(samples, scaleOf),
      stagedAtMs: Object.fromEntries(Object.entries(at).map(([k, v]) => [k, Math.round(v)])),
      status: statusAfter[4]?.model_version_status?.map((v: any) => `${v.version}:${v.state}:${v.status.error_message.slice(0, 70)}`),
      stopExit: stopCode,
    })
  })

  const versionOf = (st: any, v: number) =>
    (st?.model_version_status as {version: string; state: string; status: {error_message: string}}[] | undefined)?.find((x) => x.version === String(v))

  it('fails no request', () => {
    const bad = samples.filter((s) => s.status !== 200)
    assert.equal(bad.length, 0, `${bad.length} of ${samples.length} failed: ${bad[0]?.text}`)
    assert.ok(samples.length > 100, `only ${samples.length} requests ran`)
  })

  it('the version with the wrong key is refused with its key ids, and version 1 keeps serving', () => {
    const v2 = versionOf(statusAfter[2], 2)
    assert.ok(v2, JSON.stringify(statusAfter[2]))
    assert.notEqual(v2.state, 'AVAILABLE')
    assert.match(v2.status.error_message, /encrypted with a different key/)
    assert.equal(versionOf(statusAfter[2], 1)?.state, 'AVAILABLE')
  })

  it('the tampered version is refused as failing authentication, and version 1 keeps serving', () => {
    const v3 = versionOf(statusAfter[3], 3)
    assert.ok(v3, JSON.stringify(statusAfter[3]))
    assert.notEqual(v3.state, 'AVAILABLE')
    assert.match(v3.status.error_message, /failed authentication/)
    assert.equal(versionOf(statusAfter[3], 1)?.state, 'AVAILABLE')
  })

  it('answers come only from version 1 until the good version 4, then from version 4', () => {
    assert.deepEqual(Object.keys(countBy(samples, scaleOf)).sort(), ['1', '4'])
    assert.equal(versionOf(statusAfter[4], 4)?.state, 'AVAILABLE')
    assert.ok(samples.filter((s) => s.sentAt < at[4]!).every((s) => scaleOf(s) === 1))
  })

  it('the server stops cleanly afterwards (exit 0)', () => assert.equal(stopCode, 0))
})
