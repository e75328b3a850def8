/**
 * --model-memory-budget on a real server with three copies of the MNIST MLP: nothing loads at start, the
 * first request loads its model, a third model evicts the least recently used idle one, a model with
 * requests in flight is never evicted, concurrent first requests share one load, and a model that alone
 * exceeds the budget gets 507 saying the sizes and what to do. The budget is sized from the figures a
 * first server measured for two loads, since what a worker costs differs between tsx and dist.
 */
import {before, test} from 'node:test'
import assert from 'node:assert/strict'
import {copyFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {DEFAULT_MODEL} from '../../src/fixtures.js'
import {parseMemoryBudget} from '../../src/server/memory-budget.js'
import {readModelConfigFile} from '../../src/server/index.js'
import {get, metric, post, serve, tmp} from './helpers.js'

const dir = tmp('tfsopt-budget-')
const names = ['a', 'b', 'c']
for (const n of names) copyFileSync(DEFAULT_MODEL, join(dir, `${n}.onnx`))
const models = names.map((n) => ({name: n, path: join(dir, `${n}.onnx`)}))
const body = {instances: [Array.from({length: 784}, (_, i) => (i % 7) / 7)]}

let twoModels = 0
let oneModel = 0

before(async () => {
  // Calibration: what two loads of this model measure in this process kind (tsx workers cost more).
  const cal = await serve({models, modelMemoryBudget: '1TB'})
  try {
    for (const n of ['a', 'b']) assert.equal((await post(`${cal.url}/v1/models/${n}:predict`, body)).status, 200)
    const bytes = async (n: string) => (await get(`${cal.url}/v1/models/${n}`)).json.model_version_status[0].memory.bytes as number
    oneModel = await bytes('a')
    twoModels = oneModel + (await bytes('b'))
  } finally {
    await cal.close()
  }
  assert.ok(oneModel > 0, 'a loaded model measured no memory')
})

test('budgets parse as bytes, units and percentages; nonsense is refused with what to write', () => {
  assert.equal(parseMemoryBudget('512MB'), 512e6)
  assert.equal(parseMemoryBudget('2GiB'), 2 * 1024 ** 3)
  assert.equal(parseMemoryBudget('1500000'), 1_500_000)
  assert.equal(parseMemoryBudget('25%', 'x', 8e9), 2e9)
  assert.equal(parseMemoryBudget(4096), 4096)
  assert.throws(() => parseMemoryBudget('lots'), /must be bytes with an optional unit \(e\.g\. 512MB, 2GiB/)
  assert.throws(() => parseMemoryBudget('150%'), /at most 100/)
  assert.throws(() => parseMemoryBudget('0'), /512MB/)
})

test('the model config file carries model_memory_budget and model_load_timeout_seconds', () => {
  const file = join(dir, 'models.yaml')
  writeFileSync(file, 'model_memory_budget: 2GiB\nmodel_load_timeout_seconds: 5\nmodel_config_list:\n  - {name: a, base_path: ./a.onnx}\n')
  const cfg = readModelConfigFile(file)
  assert.equal(cfg.memoryBudget, '2GiB')
  assert.equal(cfg.loadTimeoutSeconds, 5)
  assert.equal(cfg.models[0]!.name, 'a')
  writeFileSync(file, 'model_memory_budget: [1]\nmodel_config_list:\n  - {name: a, base_path: ./a.onnx}\n')
  assert.throws(() => readModelConfigFile(file), /model_memory_budget must be bytes/)
})

test('on demand: first request loads, the third model evicts the LRU, a busy model is never evicted, first requests share a load', async () => {
  // Room for two loads with a quarter of a load to spare; every inference takes 1 s (held in flight).
  const budget = Math.round(twoModels * 1.25)
  const srv = await serve({models, modelMemoryBudget: budget, injectLatencyMs: 1000})
  const u = (p: string) => srv.url + p
  const predict = (n: string) => post(u(`/v1/models/${n}:predict`), body)
  const state = async (n: string) => (await get(u(`/v1/models/${n}`))).json
  const scrape = async () => (await get(u('/metrics'))).text
  try {
    // Nothing is loaded at start, yet the server is ready: each model is tracked, in TF Serving's START.
    assert.equal((await get(u('/healthz'))).status, 200)
    const st0 = await state('a')
    assert.equal(st0.model_version_status[0].state, 'START')
    assert.equal(st0.memory_budget.budget_bytes, budget)
    assert.equal(st0.memory_budget.loaded, false)
    assert.equal(metric(await scrape(), 'tfsopt_model_loads_total', {model: 'a'}), NaN)

    for (const n of ['a', 'b']) assert.equal((await predict(n)).status, 200)
    const stA = await state('a')
    assert.equal(stA.model_version_status[0].state, 'AVAILABLE')
    assert.ok(stA.model_version_status[0].memory.bytes > 0)
    assert.ok(stA.model_version_status[0].memory.file_bytes > 400_000, 'the file size is part of the figure')
    let m = await scrape()
    assert.ok(metric(m, 'tfsopt_model_memory_bytes', {model: 'a', version: '1'}) > 0)
    assert.equal(metric(m, 'tfsopt_model_memory_budget_bytes'), budget)
    assert.equal(metric(m, 'tfsopt_cold_start_wait_seconds_count', {model: 'a'}), 1)

    // A third model: a is the least recently used and idle, so it goes.
    assert.equal((await predict('c')).status, 200)
    const evicted = await state('a')
    assert.equal(evicted.model_version_status[0].state, 'END')
    assert.match(evicted.memory_budget.note, /evicted \(least recently used\) to make room for 'c'/)
    assert.equal((await state('b')).model_version_status[0].state, 'AVAILABLE')
    m = await scrape()
    assert.equal(metric(m, 'tfsopt_model_evictions_total', {model: 'a'}), 1)
    assert.equal(metric(m, 'tfsopt_model_memory_bytes', {model: 'a', version: '1'}), 0)
    assert.ok(metric(m, 'tfsopt_model_memory_used_bytes') <= budget)
    const index = (await post(u('/v2/repository/index'), {})).json as {name: string; state: string; reason: string; memory_bytes?: number}[]
    assert.equal(index.find((e) => e.name === 'a')!.state, 'UNAVAILABLE')
    assert.match(index.find((e) => e.name === 'a')!.reason, /evicted/)
    assert.ok(index.find((e) => e.name === 'c')!.memory_bytes! > 0)

    // b gets six requests (seconds of work on its one worker), so it is
    // still busy however slow the machine is when a loads; then c is used, so b is the LRU while it is
    // busy. Loading a must evict c instead of b.
    const busy = Array.from({length: 6}, () => predict('b'))
    await new Promise((r) => setTimeout(r, 50))
    assert.equal((await predict('c')).status, 200)
    assert.equal((await predict('a')).status, 200)
    assert.equal((await state('c')).model_version_status[0].state, 'END', 'the idle model was not the one evicted')
    assert.equal((await state('b')).model_version_status[0].state, 'AVAILABLE', 'a model with requests in flight was evicted')
    for (const r of await Promise.all(busy)) assert.equal(r.status, 200, r.text)

    // Four requests find c unloaded at once: one load serves them all.
    const loadsBefore = metric(await scrape(), 'tfsopt_model_loads_total', {model: 'c', outcome: 'ok'})
    const burst = await Promise.all([predict('c'), predict('c'), predict('c'), predict('c')])
    for (const r of burst) assert.equal(r.status, 200, r.text)
    m = await scrape()
    assert.equal(metric(m, 'tfsopt_model_loads_total', {model: 'c', outcome: 'ok'}), loadsBefore + 1)
    assert.ok(metric(m, 'tfsopt_model_load_seconds_count', {model: 'c'}) >= 2)
    let resident = 0
    for (const n of names) if ((await state(n)).memory_budget.loaded) resident++
    assert.equal(resident, 2, 'two models fit the budget')
  } finally {
    await srv.close()
  }
})

test('a model that alone exceeds the budget gets 507 with both sizes and what to do, and is not loaded again', async () => {
  const budget = Math.max(1, Math.floor(oneModel / 2))
  const srv = await serve({models, modelMemoryBudget: budget})
  const u = (p: string) => srv.url + p
  try {
    const r = await post(u('/v1/models/a:predict'), body)
    assert.equal(r.status, 507, r.text)
    assert.match(r.json.error, /model 'a' needs .* \(measured as it loaded: resident set \+.*, files .* × 1 worker\(s\)\) but the whole model memory budget is/)
    assert.match(r.json.error, /raise --model-memory-budget/)
    const again = await post(u('/v1/models/a:predict'), body)
    assert.equal(again.status, 507)
    const m = (await get(u('/metrics'))).text
    assert.equal(metric(m, 'tfsopt_model_loads_total', {model: 'a', outcome: 'too_large'}), 1, 'the refused model was loaded again')
    const st = (await get(u('/v1/models/a'))).json.model_version_status[0]
    assert.equal(st.state, 'END')
    assert.equal(st.status.error_code, 'RESOURCE_EXHAUSTED')
    // KServe v2 infer says the same.
    const v2 = await post(u('/v2/models/a/infer'), {inputs: [{name: 'input', shape: [1, 784], datatype: 'FP32', data: body.instances[0]}]})
    assert.equal(v2.status, 507)
  } finally {
    await srv.close()
  }
})
