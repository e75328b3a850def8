/**
 * Picks the TensorFlow.js package at run time: tfjs-node-gpu → tfjs-node → tfjs with the wasm
 * backend (→ plain JS cpu if wasm cannot start). tfjs-node(-gpu) download libtensorflow at install and
 * are optional peer dependencies; they are imported dynamically so tfsopt builds and runs without them.
 * One that is installed but fails to load (wrong CUDA, missing libtensorflow) is reported with its error,
 * never as "not installed": the fix is different.
 */
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {pathToFileURL} from 'node:url'
import type * as TfNs from '@tensorflow/tfjs'
import {TfsoptError, errorMessage} from '../errors.js'
import type {Device} from './types.js'

export type Tf = typeof TfNs
export interface TfjsBackend {
  tf: Tf
  pkg: string
  backend: string
  device: string
  note: string
}

const require = createRequire(import.meta.url)
const cache = new Map<string, Promise<TfjsBackend>>()

const GPU_PKG = '@tensorflow/tfjs-node-gpu'
const NODE_PKG = '@tensorflow/tfjs-node'

export const TFJS_GPU_FIX =
  'install @tensorflow/tfjs-node-gpu (needs CUDA 11.2 + cuDNN 8.1 on Linux): `npm install @tensorflow/tfjs-node-gpu`, or run with --device cpu'
export const TFJS_NODE_FIX =
  'install @tensorflow/tfjs-node (`npm install @tensorflow/tfjs-node`; it downloads libtensorflow) or @tensorflow/tfjs-node-gpu for GPUs'
export const TFJS_GPU_LOAD_FIX =
  'tfjs-node-gpu 4.x needs CUDA 11.2 + cuDNN 8.1 libraries on LD_LIBRARY_PATH (and its libtensorflow, downloaded at install: `npm rebuild @tensorflow/tfjs-node-gpu`), or run with --device cpu'

/** An optional package: loaded, absent, or present but failing to load (with the first line of its error). */
export type OptionalImport = {loaded: true; mod: Tf} | {loaded: false; installed: false} | {loaded: false; installed: true; error: string}

/**
 * Imports `name` as resolved from `from` (this module by default; tests pass a folder with their own
 * node_modules). "Not installed" means it does not resolve; any error after that is a load failure.
 */
export async function importOptional(name: string, from: string | URL = import.meta.url): Promise<OptionalImport> {
  let path: string
  try {
    path = createRequire(from).resolve(name)
  } catch {
    return {loaded: false, installed: false}
  }
  try {
    return {loaded: true, mod: (await import(pathToFileURL(path).href)) as Tf}
  } catch (err) {
    return {loaded: false, installed: true, error: errorMessage(err).slice(0, 400)}
  }
}

export function loadTfjs(device: Device = 'auto'): Promise<TfjsBackend> {
  let p = cache.get(device)
  if (!p) {
    p = pickTfjs(device)
    cache.set(device, p)
    p.catch(() => cache.delete(device))
  }
  return p
}

/** `loadTfjs` without the cache; `from` is where the optional tfjs-node packages are resolved. */
export async function pickTfjs(device: Device, from: string | URL = import.meta.url): Promise<TfjsBackend> {
  // Load failures of packages passed over, so the backend finally chosen says why it was not them.
  const failed: string[] = []
  const why = (note: string) => [...failed, note].join('; ')
  if (device === 'tensorrt' || device === 'webgpu')
    throw new TfsoptError(
      'E_DEVICE',
      `--device ${device} is an onnxruntime execution provider; TF.js models run on cpu or, with tfjs-node-gpu, on --device gpu/cuda`,
    )
  if (device !== 'cpu') {
    const gpu = await importOptional(GPU_PKG, from)
    if (gpu.loaded) return {tf: gpu.mod, pkg: GPU_PKG, backend: 'tensorflow', device: 'gpu', note: `${device} chose tfjs-node-gpu (installed)`}
    if (device === 'gpu' || device === 'cuda')
      throw new TfsoptError(
        'E_DEVICE',
        gpu.installed
          ? `--device ${device}: ${GPU_PKG} is installed but failed to load: ${gpu.error}; ${TFJS_GPU_LOAD_FIX}`
          : `--device ${device}: ${GPU_PKG} is not installed; ${TFJS_GPU_FIX}`,
      )
    if (gpu.installed) failed.push(`${GPU_PKG} is installed but failed to load (${gpu.error})`)
  }
  const node = await importOptional(NODE_PKG, from)
  if (node.loaded) return {tf: node.mod, pkg: NODE_PKG, backend: 'tensorflow', device: 'cpu', note: why('tfjs-node (libtensorflow, cpu)')}
  if (node.installed) failed.push(`${NODE_PKG} is installed but failed to load (${node.error})`)
  const fallback = node.installed ? 'falling back to' : 'tfjs-node not installed:'
  const tf = (await import('@tensorflow/tfjs')) as Tf
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm')
    const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))
    wasm.setWasmPaths(`${join(dir, 'dist')}/`)
    // The emscripten module adds process-wide uncaughtException/unhandledRejection handlers that
    // rethrow (and print its whole source); a server must keep its own handling, so they are removed.
    const before = {ue: process.listeners('uncaughtException'), ur: process.listeners('unhandledRejection')}
    const ok = await tf.setBackend('wasm')
    await tf.ready().catch(() => undefined)
    for (const l of process.listeners('uncaughtException')) if (!before.ue.includes(l)) process.removeListener('uncaughtException', l)
    for (const l of process.listeners('unhandledRejection')) if (!before.ur.includes(l)) process.removeListener('unhandledRejection', l)
    if (ok) {
      return {tf, pkg: '@tensorflow/tfjs', backend: 'wasm', device: 'cpu', note: why(`${fallback} @tensorflow/tfjs with the wasm backend (cpu)`)}
    }
  } catch {
    /* fall through to the JS cpu backend */
  }
  await tf.setBackend('cpu')
  await tf.ready()
  return {
    tf,
    pkg: '@tensorflow/tfjs',
    backend: 'cpu',
    device: 'cpu',
    note: why(`${fallback} @tensorflow/tfjs, and wasm failed to start: plain JS cpu backend (slow)`),
  }
}
