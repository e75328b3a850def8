/**
 * Many models under a memory budget: N copies of the MNIST MLP served with --model-memory-budget sized
 * for C of them (from one load measured first), one closed-loop client drawing each request's model
 * from Zipf(s) (or uniform, s = 0) for a fixed time. Before each predict the client asks the model's
 * status (is it loaded?), so every request is classified as a hit or a cold start; it reports the
 * measured hit ratio beside Che's approximation for LRU under that popularity, the cold-start p99 and
 * the steady (hit) p99, and the number of failed requests. One client, so the requests follow the
 * independent reference model that Che's approximation assumes. It also counts the models resident at each
 * request (READY in the KServe v2 repository index) and gives Che at that mean capacity: the budget is in
 * bytes, and loads measure a little differently, so C is not always exactly --fit. And it replays the
 * same drawn sequence through an exact LRU of --fit entries: the sequence's own hit ratio, which tells the
 * server's behaviour (measured vs replay) apart from the sample's distance to Che (replay vs Che).
 *
 * Usage: node --import tsx benchmarks/many-models.ts [--models 20] [--fit 5] [--zipf 1] [--seconds 120] [--seed 1]
 */
import {copyFileSync, mkdtempSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {DEFAULT_MODEL} from '../src/fixtures.js'
import {cheLru, zipfPopularity} from '../src/queueing/che.js'
import {startServer} from '../src/server/index.js'
import {mulberry32} from '../src/stats/prng.js'

const {values} = parseArgs({
  options: {
    models: {type: 'string', default: '20'},
    fit: {type: 'string', default: '5'},
    zipf: {type: 'string', default: '1'},
    seconds: {type: 'string', default: '120'},
    seed: {type: 'string', default: '1'},
  },
})
const N = Number(values.models)
const FIT = Number(values.fit)
const S = Number(values.zipf)
const SECONDS = Number(values.seconds)
const dir = mkdtempSync(join(tmpdir(), 'tfsopt-many-'))
const models = Array.from({length: N}, (_, i) => {
  const path = join(dir, `m${i + 1}.onnx`)
  copyFileSync(DEFAULT_MODEL, path)
  return {name: `m${i + 1}`, path}
})
const body = JSON.stringify({instances: [Array.from({length: 784}, (_, i) => (i % 9) / 9)]})
const common = {port: 0, device: 'cpu' as const, workers: 1, intraOpThreads: 1, warmup: 1, pollSeconds: 0, log: () => {}}

async function predict(url: string, name: string): Promise<number> {
  const r = await fetch(`${url}/v1/models/${name}:predict`, {method: 'POST', body, headers: {'content-type': 'application/json'}})
  await r.text()
  return r.status
}

// One load, measured, sizes the budget: room for FIT loads and half of one more.
const cal = await startServer({...common, models: models.slice(0, 1), modelMemoryBudget: '1TB'})
await predict(cal.url, 'm1')
const one = ((await (await fetch(`${cal.url}/v1/models/m1`)).json()) as {model_version_status: {memory: {bytes: number}}[]}).model_version_status[0]!.memory
  .bytes
await cal.close()
const budget = Math.round(one * (FIT + 0.5))

const srv = await startServer({...common, models, modelMemoryBudget: budget})
const q = zipfPopularity(N, S)
const rand = mulberry32(Number(values.seed))
const draw = () => {
  let u = rand()
  for (let i = 0; i < N; i++) if ((u -= q[i]!) <= 0) return i
  return N - 1
}
const hits: number[] = []
const colds: number[] = []
let failed = 0
// How many models were resident when each request arrived (KServe v2 repository index, READY entries):
// the budget is in bytes and each load's measured size varies, so the capacity C is not exactly --fit.
let residentSum = 0
const drawn: string[] = []
const resident = async (url: string) =>
  ((await (await fetch(`${url}/v2/repository/index`, {method: 'POST', body: '{}'})).json()) as {state: string}[]).filter((m) => m.state === 'READY').length
const load0 = loadavg()[0]!
const deadline = performance.now() + SECONDS * 1000
while (performance.now() < deadline) {
  const name = models[draw()]!.name
  drawn.push(name)
  residentSum += await resident(srv.url)
  const st = (await (await fetch(`${srv.url}/v1/models/${name}`)).json()) as {memory_budget: {loaded: boolean}}
  const t0 = performance.now()
  const status = await predict(srv.url, name)
  const ms = performance.now() - t0
  if (status !== 200) failed++
  ;(st.memory_budget.loaded ? hits : colds).push(ms)
}
await srv.close()
const p = (xs: number[], f: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.min(s.length - 1, Math.ceil(f * s.length) - 1)]! : NaN
}
const total = hits.length + colds.length
const che = cheLru(q, FIT)
const meanResident = residentSum / total
/** An exact LRU of `capacity` entries replayed on the same drawn sequence: what the server should do, sample noise included. */
function lruHits(seq: string[], capacity: number): number {
  const cache: string[] = []
  let h = 0
  for (const k of seq) {
    const i = cache.indexOf(k)
    if (i >= 0) {
      h++
      cache.splice(i, 1)
    } else if (cache.length >= capacity) cache.shift()
    cache.push(k)
  }
  return h / seq.length
}
// Che's characteristic-time equation Σ(1 − e^{−q_i·T}) = C holds for a real C: the capacity the server held on average.
const cheHeld = cheLru(q, meanResident)
console.log(
  JSON.stringify({
    models: N,
    fit: FIT,
    zipf: S,
    seconds: SECONDS,
    oneModelBytes: one,
    budgetBytes: budget,
    requests: total,
    failed,
    hitRatio: Math.round((hits.length / total) * 1000) / 1000,
    cheHitRatio: Math.round(che.hitRatio * 1000) / 1000,
    meanResidentModels: Math.round(meanResident * 100) / 100,
    cheHitRatioAtMeanResident: Math.round(cheHeld.hitRatio * 1000) / 1000,
    lruReplayHitRatio: Math.round(lruHits(drawn, FIT) * 1000) / 1000,
    steadyP50ms: Math.round(p(hits, 0.5) * 100) / 100,
    steadyP99ms: Math.round(p(hits, 0.99) * 100) / 100,
    coldP50ms: Math.round(p(colds, 0.5)),
    coldP99ms: Math.round(p(colds, 0.99)),
    loadAvg: [Math.round(load0 * 100) / 100, Math.round(loadavg()[0]! * 100) / 100],
  }),
)
