/**
 * Which runtime would serve a model, without loading it: the backend from the format, and for ONNX the
 * execution providers chooseProviders('auto') picks; for TF.js the package tfjs-backend.ts would pick
 * (resolved, not imported, so inspect stays fast).
 */
import {createRequire} from 'node:module'
import {backendFor} from '../runtime/load.js'
import {chooseProviders, ort} from '../runtime/onnx-session.js'
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
    const c = chooseProviders('auto')
    return {backend, engine: `onnxruntime-node ${ort().env.versions?.node ?? ''}`.trim(), device: c.device, note: c.note}
  }
  if (resolvable('@tensorflow/tfjs-node-gpu'))
    return {backend, engine: '@tensorflow/tfjs-node-gpu', device: 'gpu', note: 'auto would choose tfjs-node-gpu (installed)'}
  if (resolvable('@tensorflow/tfjs-node')) return {backend, engine: '@tensorflow/tfjs-node', device: 'cpu', note: 'tfjs-node (libtensorflow, cpu)'}
  if (format === 'savedmodel') return {backend, engine: 'none', device: 'cpu', note: 'a SavedModel needs @tensorflow/tfjs-node, which is not installed'}
  return {backend, engine: '@tensorflow/tfjs (wasm backend)', device: 'cpu', note: 'tfjs-node not installed: @tensorflow/tfjs with the wasm backend (cpu)'}
}
