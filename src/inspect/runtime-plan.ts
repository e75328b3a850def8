/**
 * Which runtime would serve a model, without loading it: the backend from the format, and for ONNX the
 * execution providers installed (`inspect --device` starts them and says which runs); for TF.js the package tfjs-backend.ts would pick
 * (resolved, not imported, so inspect stays fast).
 */
import {createRequire} from 'node:module'
import {backendFor} from '../runtime/load.js'
import {ort} from '../runtime/onnx-session.js'
import {GPU_PROVIDERS, notInstalledReason} from '../runtime/devices.js'
import type {ModelFormat} from '../models/detect.js'
import type {InspectReport} from './types.js'

const require = createRequire(import.meta.url)
const resolvable = (name: string) => {
  try {
    require.resolve(name)
    return true
  } catch {
    return false
  }
}

export function runtimePlan(format: ModelFormat): InspectReport['runtime'] {
  const backend = backendFor(format)
  if (backend === 'onnx') {
    const installed = GPU_PROVIDERS.filter((p) => !notInstalledReason(p))
    const note = `auto would try ${[...installed, 'cpu'].join(' → ')} (installed; not started: pass --device auto to start them and see where each node runs)`
    return {backend, engine: `onnxruntime-node ${ort().env.versions?.node ?? ''}`.trim(), device: installed.length ? 'not probed' : 'cpu', note}
  }
  if (resolvable('@tensorflow/tfjs-node-gpu'))
    return {backend, engine: '@tensorflow/tfjs-node-gpu', device: 'gpu', note: 'auto would choose tfjs-node-gpu (installed)'}
  if (resolvable('@tensorflow/tfjs-node')) return {backend, engine: '@tensorflow/tfjs-node', device: 'cpu', note: 'tfjs-node (libtensorflow, cpu)'}
  if (format === 'savedmodel') return {backend, engine: 'none', device: 'cpu', note: 'a SavedModel needs @tensorflow/tfjs-node, which is not installed'}
  return {backend, engine: '@tensorflow/tfjs (wasm backend)', device: 'cpu', note: 'tfjs-node not installed: @tensorflow/tfjs with the wasm backend (cpu)'}
}
