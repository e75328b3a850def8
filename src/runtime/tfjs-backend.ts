/**
 * Picks the TensorFlow.js package at run time: tfjs-node-gpu → tfjs-node → tfjs with the wasm
 * backend (→ plain JS cpu if wasm cannot start). tfjs-node(-gpu) download libtensorflow at install and
 * are optional; they are imported dynamically so tfsopt builds and runs without them.
 */
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import type * as TfNs from '@tensorflow/tfjs'
import {TfsoptError} from '../errors.js'
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

export const TFJS_GPU_FIX =
  'install @tensorflow/tfjs-node-gpu (needs CUDA 11.2 + cuDNN 8.1 on Linux): `npm install @tensorflow/tfjs-node-gpu`, or run with --device cpu'
export const TFJS_NODE_FIX =
  'install @tensorflow/tfjs-node (`npm install @tensorflow/tfjs-node`; it downloads libtensorflow) or @tensorflow/tfjs-node-gpu for GPUs'

async function tryImport(name: string): Promise<Tf | undefined> {
  try {
    return (await import(name)) as Tf
  } catch {
    return undefined
  }
}

export function loadTfjs(device: Device = 'auto'): Promise<TfjsBackend> {
  let p = cache.get(device)
  if (!p) {
    p = pick(device)
    cache.set(device, p)
    p.catch(() => cache.delete(device))
  }
  return p
}

async function pick(device: Device): Promise<TfjsBackend> {
  if (device === 'tensorrt' || device === 'webgpu')
    throw new TfsoptError(
      'E_DEVICE',
      `--device ${device} is an onnxruntime execution provider; TF.js models run on cpu or, with tfjs-node-gpu, on --device gpu/cuda`,
    )
  if (device !== 'cpu') {
    const gpu = await tryImport('@tensorflow/tfjs-node-gpu')
    if (gpu) return {tf: gpu, pkg: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow', device: 'gpu', note: `${device} chose tfjs-node-gpu (installed)`}
    if (device === 'gpu' || device === 'cuda')
      throw new TfsoptError('E_DEVICE', `--device ${device}: @tensorflow/tfjs-node-gpu is not installed; ${TFJS_GPU_FIX}`)
  }
  const node = await tryImport('@tensorflow/tfjs-node')
  if (node) return {tf: node, pkg: '@tensorflow/tfjs-node', backend: 'tensorflow', device: 'cpu', note: 'tfjs-node (libtensorflow, cpu)'}
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
      return {tf, pkg: '@tensorflow/tfjs', backend: 'wasm', device: 'cpu', note: 'tfjs-node not installed: @tensorflow/tfjs with the wasm backend (cpu)'}
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
    note: 'tfjs-node not installed and wasm failed to start: @tensorflow/tfjs plain JS cpu backend (slow)',
  }
}
