/** Opens any supported model in the runtime that suits it (or the one asked for). */
import {detectModel, type DetectedModel} from '../models/detect.js'
import {TfsoptError} from '../errors.js'
import type {BackendKind, InferenceSession, SessionOptions} from './types.js'
import {OnnxSession} from './onnx-session.js'
import {TfjsSession} from './tfjs-session.js'
import {withSealed} from '../models/sealed/open.js'

export function backendFor(format: DetectedModel['format'], wanted: 'auto' | BackendKind = 'auto'): BackendKind {
  const natural: BackendKind = format === 'onnx' ? 'onnx' : 'tfjs'
  if (wanted !== 'auto' && wanted !== natural) {
    throw new TfsoptError('E_USAGE', `--backend ${wanted} cannot run a ${format} model; use --backend ${natural} (or auto), or convert the model`)
  }
  return natural
}

export async function openSession(model: string | DetectedModel, opts: SessionOptions & {backend?: 'auto' | BackendKind} = {}): Promise<InferenceSession> {
  const det = typeof model === 'string' ? detectModel(model) : model
  const backend = backendFor(det.format, opts.backend)
  // An encrypted model is decrypted into memory for the load only: the session keeps its own copy.
  return withSealed<InferenceSession>(det.sealed, () =>
    backend === 'onnx' ? OnnxSession.load(det.path, opts) : TfjsSession.load(det.path, det.format === 'savedmodel' ? 'savedmodel' : 'tfjs', opts),
  )
}
