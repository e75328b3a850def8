/**
 * Scenario 9 — eviction under load. Six copies of the MNIST MLP behind a memory budget that holds two;
 * 8 closed-loop clients each draw every request's model from a Zipf (s = 1) popularity for 8 s, so
 * models are loaded, evicted and loaded again all the time while others serve. Expect: no failed
 * request, every answer the model's own (the six copies answer alike, so the digit is checked), the
 * memory charged never above the budget at the end, evictions and reloads both happened, and the
 * server stops cleanly. The budget is sized from one load measured by a first child server.
 */
import assert from 'node:assert/strict'
import {copyFileSync} from 'node:fs'
import {join} from 'node:path'
import {Agent} from 'node:http'
import {after, before, describe, it} from 'node:test'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {mulberry32} from '../../src/stats/prng.js'
import {call, countBy, exclusive, metric, quantile, report, startChildServer, tmp, type ChildServer, type Sample} from './harness.js'

const N = 6
const names = Array.from({length: N}, (_, i) => `m${i + 1}`)
const ROW = Array.from({length: 784}, (_, i) => (i % 11) / 11)
const BODY = JSON.stringify({instances: [ROW]})

describe('eviction under load', {timeout: 300_000}, () => {
  let srv: ChildServer | undefined
  let samples: Sample[] = []
  let perModel: string[] = []
  let budget = 0
  let oneModel = 0
  let scrape = ''
  let stopCode: number | null = null
  let expected = ''

  before(() =>
    exclusive(async () => {
      const dir = tmp()
      for (const n of names) copyFileSync(DEFAULT_MODEL, join(dir, `${n}.onnx`))
      const models = names.map((name) => ({name, path: join(dir, `${name}.onnx`)}))
      const cal = await startChildServer({models, modelMemoryBudget: '1TB'})
      try {
        const first = await call(`${cal.url}/v1/models/m1:predict`, {body: BODY})
        expected = first.text
        oneModel = (await call(`${cal.url}/v1/models/m1`)).json.model_version_status[0].memory.bytes
      } finally {
        await cal.stop()
      }
      budget = Math.round(oneModel * 2.4)
      srv = await startChildServer({models, modelMemoryBudget: budget})
      // Zipf(1) over the six models, drawn per request with a seeded generator.
      const weights = names.map((_, i) => 1 / (i + 1))
      const sum = weights.reduce((a, b) => a + b, 0)
      const rand = mulberry32(20261207)
      const pick = () => {
        let u = rand() * sum
        for (let i = 0; i < N; i++) if ((u -= weights[i]!) <= 0) return i
        return N - 1
      }
      const chosen: string[] = []
      samples = (await runLoadPerModel(srv.url, pick, chosen)).samples
      perModel = chosen
      scrape = (await call(`${srv.url}/metrics`)).text
      stopCode = await srv.stop()
    }),
  )

  after(async () => {
    if (srv?.alive()) await srv.stop()
    report('eviction-under-load', {
      budgetBytes: budget,
      oneModelBytes: oneModel,
      requests: samples.length,
      statuses: countBy(samples, (s) => (s.status === 200 ? 200 : `${s.status} ${s.text.slice(0, 160)}`)),
      byModel: countBy(perModel, (m) => m),
      loads: metric(scrape, 'tfsopt_model_loads_total', {outcome: 'ok'}),
      evictions: metric(scrape, 'tfsopt_model_evictions_total'),
      coldWaits: metric(scrape, 'tfsopt_cold_start_wait_seconds_count'),
      p50ms:
        Math.round(
          quantile(
            samples.map((s) => s.ms),
            0.5,
          ) * 10,
        ) / 10,
      p99ms: Math.round(
        quantile(
          samples.map((s) => s.ms),
          0.99,
        ),
      ),
      maxMs: Math.round(Math.max(...samples.map((s) => s.ms))),
      usedBytesAtEnd: metric(scrape, 'tfsopt_model_memory_used_bytes'),
      stopExit: stopCode,
    })
  })

  it('fails no request, and every answer is the model’s', () => {
    const bad = samples.filter((s) => s.status !== 200)
    assert.equal(bad.length, 0, `${bad.length} of ${samples.length} failed: ${JSON.stringify(countBy(bad, (s) => s.status || s.text))}`)
    // Most requests wait for a cold load (0.5–1 s each on 2 cores), so 8 s yield 40–80 of them: enough
    // that models are evicted and loaded again (the next test checks it), not a throughput claim.
    assert.ok(samples.length >= 20, `only ${samples.length} requests ran`)
    const wrong = samples.filter((s) => s.text !== expected)
    assert.equal(wrong.length, 0, `${wrong.length} answers differ from the model's: ${wrong[0]?.text.slice(0, 120)}`)
  })

  it('models were evicted and loaded again, and what is loaded fits the budget', () => {
    assert.ok(metric(scrape, 'tfsopt_model_evictions_total') > 0, 'nothing was evicted')
    assert.ok(metric(scrape, 'tfsopt_model_loads_total', {outcome: 'ok'}) > N, 'no model was loaded twice')
    assert.ok(metric(scrape, 'tfsopt_model_memory_used_bytes') <= budget, 'more is loaded than the budget allows')
  })

  it('the server stops cleanly afterwards (exit 0)', () => assert.equal(stopCode, 0))
})

/** 8 closed-loop keep-alive clients for 8 s, each request to a model drawn from `pick`; `chosen[i]` is sample i's model. */
async function runLoadPerModel(url: string, pick: () => number, chosen: string[]): Promise<{samples: Sample[]}> {
  const agent = new Agent({keepAlive: true, maxSockets: 8})
  const all: Sample[] = []
  const t0 = performance.now()
  const deadline = t0 + 8000
  const client = async () => {
    while (performance.now() < deadline) {
      const name = names[pick()]!
      const sentAt = performance.now() - t0
      const r = await call(`${url}/v1/models/${name}:predict`, {body: BODY, agent, timeoutMs: 90_000})
      all.push({status: r.status, ms: r.ms, sentAt, doneAt: performance.now() - t0, text: r.status === 200 ? r.text : r.text.slice(0, 300)})
      chosen.push(name)
    }
  }
  await Promise.all(Array.from({length: 8}, client))
  agent.destroy()
  return {samples: all}
}
