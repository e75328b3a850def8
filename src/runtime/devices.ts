/**
 * Which onnxruntime execution provider runs a model, and why the others did not. `auto` tries
 * TensorRT → CUDA → WebGPU → CPU; `gpu` tries the same GPU providers and fails (E_DEVICE) with the list
 * instead of falling back; `cuda`/`tensorrt`/`webgpu` try only that one; `cpu` tries nothing else.
 *
 * A provider is first looked for in this onnxruntime-node binary (listSupportedBackends, plus the
 * provider library on disk for CUDA/TensorRT, which are "not bundled" and only present after a CUDA
 * install); one that is there is then really started: a session is created with it on a tiny bundled
 * model. That happens in a child process with a timeout, because session creation is synchronous
 * native code: a GPU driver that hangs while Dawn asks for an adapter would otherwise hang tfsopt too,
 * and the providers' own error logs would land on the user's terminal.
 */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {TfsoptError} from '../errors.js'
import {DEFAULT_MODEL} from '../fixtures.js'
import type {Device} from './types.js'

const require = createRequire(import.meta.url)

export const GPU_PROVIDERS = ['tensorrt', 'cuda', 'webgpu'] as const
export type GpuProvider = (typeof GPU_PROVIDERS)[number]
export type Provider = GpuProvider | 'cpu'

/** onnxruntime's own names, as its profiles and logs print them. */
export const ORT_PROVIDER_NAMES: Record<Provider, string> = {
  tensorrt: 'TensorrtExecutionProvider',
  cuda: 'CUDAExecutionProvider',
  webgpu: 'WebGpuExecutionProvider',
  cpu: 'CPUExecutionProvider',
}

export const ORT_GPU_FIX =
  'install onnxruntime-node with its CUDA binaries: `npm install onnxruntime-node --onnxruntime-node-install=cuda12` (needs CUDA 12 and cuDNN 9), or run with --device cpu'

export type AttemptStatus = 'chosen' | 'not-installed' | 'failed' | 'timed-out' | 'not-tried'

export interface ProviderAttempt {
  provider: Provider
  status: AttemptStatus
  /** Why, in words: the provider's own error where it failed. */
  reason: string
  /** How long starting it took, where it was tried. */
  ms?: number
}

export interface DeviceChoice {
  request: Device
  /** The provider that runs the model. */
  provider: Provider
  /** The execution-provider list a session is created with (best first, CPU last for the nodes a GPU provider cannot take). */
  executionProviders: string[]
  /** Every provider the request considered, in the order tried. */
  attempts: ProviderAttempt[]
  note: string
}

export const isGpuProvider = (p: string): p is GpuProvider => (GPU_PROVIDERS as readonly string[]).includes(p)

/** What one started (or failed) provider reported from the probe. */
export interface ProbeResult {
  provider: GpuProvider
  ok: boolean
  error?: string
  timedOut?: boolean
  ms?: number
}

const ortDir = () => dirname(require.resolve('onnxruntime-node/package.json'))
const libDir = () => join(ortDir(), 'bin', 'napi-v6', process.platform, process.arch)

/** Why a provider is not in this onnxruntime-node binary, or undefined when it is. */
export function notInstalledReason(p: GpuProvider): string | undefined {
  const list = (require('onnxruntime-node') as {listSupportedBackends?: () => {name: string; bundled: boolean}[]}).listSupportedBackends?.() ?? []
  const entry = list.find((b) => b.name === p)
  if (!entry) return `not built into this onnxruntime-node binary (${process.platform}/${process.arch})`
  if (entry.bundled) return undefined
  // cuda/tensorrt are listed as not bundled: usable only when the CUDA install put their library beside the binding.
  const lib = p === 'cuda' ? 'libonnxruntime_providers_cuda.so' : 'libonnxruntime_providers_tensorrt.so'
  return existsSync(join(libDir(), lib)) ? undefined : `${lib} is absent (the CUDA binaries were not installed)`
}

/** onnxruntime's error without its source location: "Failed to get a WebGPU adapter: No supported adapters". */
export function cleanOrtError(msg: string): string {
  return msg
    .replace(/^\/\S+:\d+ .*? was false\. /, '')
    .replace(/^\[ONNXRuntimeError\] : \d+ : \w+ : /, '')
    .trim()
}

const HINTS: Record<GpuProvider, string> = {
  tensorrt: 'TensorRT needs the CUDA binaries, CUDA 12, cuDNN 9 and TensorRT 10 on the library path',
  cuda: 'CUDA needs the CUDA binaries, an NVIDIA driver, CUDA 12 and cuDNN 9 on the library path',
  webgpu: 'WebGPU (bundled, Dawn over Vulkan on Linux) needs a GPU with a Vulkan driver and libvulkan.so.1; software Vulkan (lavapipe) is refused',
}

/** The execution providers to create a session with, for the provider chosen. */
export function executionProvidersFor(p: Provider): string[] {
  if (p === 'tensorrt') return ['tensorrt', 'cuda', 'cpu']
  return p === 'cpu' ? ['cpu'] : [p, 'cpu']
}

/** The GPU providers a request considers, in the order they are tried. */
export function candidatesFor(request: Device): GpuProvider[] {
  if (request === 'cpu') return []
  if (request === 'auto' || request === 'gpu') return [...GPU_PROVIDERS]
  return [request]
}

/**
 * The decision, given what is installed and what started: pure, so every branch is testable without a
 * GPU. `started` answers for installed providers in order; the first that starts is chosen.
 */
export function decideDevice(request: Device, notInstalled: (p: GpuProvider) => string | undefined, started: ProbeResult[]): DeviceChoice {
  const attempts: ProviderAttempt[] = []
  let chosen: Provider | undefined
  for (const p of candidatesFor(request)) {
    const missing = notInstalled(p)
    if (missing) {
      attempts.push({provider: p, status: 'not-installed', reason: missing})
      continue
    }
    if (chosen) {
      attempts.push({provider: p, status: 'not-tried', reason: `${chosen} started first`})
      continue
    }
    const r = started.find((s) => s.provider === p)
    if (!r) attempts.push({provider: p, status: 'not-tried', reason: 'not probed'})
    else if (r.ok) {
      chosen = p
      attempts.push({provider: p, status: 'chosen', reason: 'started', ms: r.ms})
    } else
      attempts.push({
        provider: p,
        status: r.timedOut ? 'timed-out' : 'failed',
        reason: `${cleanOrtError(r.error ?? 'failed to start')} (${HINTS[p]})`,
        ms: r.ms,
      })
  }
  const tried = describeAttempts(attempts)
  if (chosen)
    return {
      request,
      provider: chosen,
      executionProviders: executionProvidersFor(chosen),
      attempts,
      note: `${request} chose ${chosen}${tried ? ` (${tried})` : ''}`,
    }
  if (request === 'cpu') return {request, provider: 'cpu', executionProviders: ['cpu'], attempts, note: 'cpu requested: no other provider tried'}
  if (request === 'auto') {
    attempts.push({provider: 'cpu', status: 'chosen', reason: 'no GPU provider started'})
    return {request, provider: 'cpu', executionProviders: ['cpu'], attempts, note: `auto chose cpu: ${tried}`}
  }
  const fix = attempts.some((a) => a.status === 'not-installed' && a.provider !== 'webgpu')
    ? `; for CUDA/TensorRT, ${ORT_GPU_FIX}`
    : '; or run with --device cpu'
  throw new TfsoptError('E_DEVICE', `--device ${request}: no GPU execution provider started: ${tried}${fix}`)
}

export function describeAttempts(attempts: ProviderAttempt[]): string {
  return attempts
    .filter((a) => a.status !== 'chosen')
    .map((a) => `${a.provider} ${a.status.replace('-', ' ')}: ${a.reason}`)
    .join('; ')
}

/** Milliseconds a probe may take in all before the provider it is on counts as timed out. */
export function probeTimeoutMs(): number {
  const v = Number(process.env.TFSOPT_DEVICE_PROBE_TIMEOUT_MS)
  return Number.isFinite(v) && v > 0 ? v : 30_000
}

// The child: creates a session with each provider in turn and prints one JSON line per provider.
const PROBE_SOURCE = `
const [ortPath, model, list, all] = process.argv.slice(1)
const ort = require(ortPath)
ort.env.logLevel = 'fatal'
;(async () => {
  for (const p of JSON.parse(list)) {
    process.stdout.write(JSON.stringify({start: p}) + '\\n')
    const t0 = Date.now()
    try {
      const s = await ort.InferenceSession.create(model, {executionProviders: [p], logSeverityLevel: 4})
      await s.release()
      process.stdout.write(JSON.stringify({provider: p, ok: true, ms: Date.now() - t0}) + '\\n')
      if (all !== 'all') break
    } catch (e) {
      const msg = String(e && e.message || e).split('\\n').map((l) => l.trim()).filter(Boolean)
      process.stdout.write(JSON.stringify({provider: p, ok: false, error: msg[msg.length - 1] || 'failed', ms: Date.now() - t0}) + '\\n')
    }
  }
  process.exit(0)
})()
`

/**
 * Starts each provider in a child process; stops at the first that starts unless `all`. The provider
 * still starting when `timeoutMs` runs out is reported as timed out (and the child killed).
 */
export function probeProviders(providers: GpuProvider[], opts: {timeoutMs?: number; all?: boolean; model?: string} = {}): Promise<ProbeResult[]> {
  const timeoutMs = opts.timeoutMs ?? probeTimeoutMs()
  if (!providers.length) return Promise.resolve([])
  return new Promise((resolve) => {
    const results: ProbeResult[] = []
    // The child starts with the first provider; loading onnxruntime itself counts against its time.
    let current: GpuProvider | undefined = providers[0]
    const started = Date.now()
    const child = spawn(process.execPath, ['-e', PROBE_SOURCE, ortDir(), opts.model ?? DEFAULT_MODEL, JSON.stringify(providers), opts.all ? 'all' : 'first'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let buf = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      let nl = buf.indexOf('\n')
      while (nl >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        nl = buf.indexOf('\n')
        try {
          const m = JSON.parse(line) as ProbeResult & {start?: GpuProvider}
          if (m.start) current = m.start
          else {
            results.push({provider: m.provider, ok: m.ok, error: m.error, ms: m.ms})
            current = undefined
          }
        } catch {
          /* a stray line from a native library: ignore */
        }
      }
    })
    // Native libraries (Dawn, the provider bridge) log here; kept only to explain a crash.
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000)
    })
    const timer = setTimeout(() => {
      if (current) results.push({provider: current, ok: false, timedOut: true, error: `did not start within ${timeoutMs} ms`, ms: Date.now() - started})
      current = undefined
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (current) {
        const last = stderr.trim().split('\n').pop() ?? ''
        results.push({provider: current, ok: false, error: `the probe process died (${signal ?? `exit ${code}`}) while starting it${last ? `: ${last}` : ''}`})
      }
      resolve(results)
    })
  })
}

const cache = new Map<Device, Promise<DeviceChoice>>()

/** The device for a request, probed once per process and request. */
export function selectDevice(request: Device = 'auto'): Promise<DeviceChoice> {
  let p = cache.get(request)
  if (!p) {
    p = (async () => {
      const installed = candidatesFor(request).filter((c) => !notInstalledReason(c))
      return decideDevice(request, notInstalledReason, await probeProviders(installed))
    })()
    cache.set(request, p)
    p.catch(() => cache.delete(request))
  }
  return p
}

/** A choice already made elsewhere (the server's main thread), for a worker: no probe. */
export function fixedChoice(provider: Provider, request: Device, note: string): DeviceChoice {
  return {request, provider, executionProviders: executionProvidersFor(provider), attempts: [], note}
}
