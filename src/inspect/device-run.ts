/**
 * `inspect --device`: really opens the model on the chosen execution provider and profiles one run, so
 * the report says which provider runs it, why the others did not, and where each node ran.
 */
import {OnnxSession} from '../runtime/onnx-session.js'
import {syntheticFeeds} from '../runtime/synthetic-feeds.js'
import type {Device} from '../runtime/types.js'
import type {TensorInfo} from '../models/dtypes.js'
import {resolveShapes} from './input-shape.js'
import type {InspectReport} from './types.js'

export async function onnxDeviceRun(path: string, inputs: TensorInfo[], device: Device, given?: Record<string, number[]>): Promise<InspectReport['runtime']> {
  const session = await OnnxSession.load(path, {device, profile: true})
  try {
    const {shapes} = resolveShapes(inputs, given)
    const placement = await session.profileOnce(syntheticFeeds(session.inputs.map((i) => ({...i, shape: shapes[i.name] ?? i.shape}))))
    return {backend: 'onnx', engine: session.engine, device: session.device, note: session.deviceNote, attempts: session.attempts, placement}
  } finally {
    await session.dispose()
  }
}
