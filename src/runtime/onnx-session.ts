/** onnxruntime-node backend, with execution providers picked from what the installed binary has. */
import {createRequire} from 'node:module'
import {readFileSync} from 'node:fs'
import type * as OrtNs from 'onnxruntime-node'
import {TfsoptError} from '../errors.js'
import {readModel} from '../models/onnx/proto.js'
import {valueInfoToTensorInfo} from '../models/onnx/tensor.js'
import type {TensorInfo} from '../models/dtypes.js'
import type {Feeds, InferenceSession, SessionOptions, Tensor} from './types.js'

const require = createRequire(import.meta.url)
let ortCache: typeof OrtNs | undefined
export function ort(): typeof OrtNs {
  ortCache ??= require('onnxruntime-node') as typeof OrtNs
  return ortCache
}

export const ORT_GPU_FIX =
  'install onnxruntime-node with its CUDA binaries: `npm install onnxruntime-node --onnxruntime-node-install=cuda12` (needs CUDA 12 and cuDNN 9), or run with --device cpu'

/** Execution providers this onnxruntime-node build can use, best first. */
export function availableGpuProviders(): string[] {
  const list = (ort() as unknown as {listSupportedBackends?: () => {name: string; bundled: boolean}[]}).listSupportedBackends?.() ?? []
  const have = new Set(list.filter((b) => b.bundled || installedProvider(b.name)).map((b) => b.name))
  return ['tensorrt', 'cuda', 'webgpu'].filter((p) => have.has(p))
}

/** cuda/tensorrt are "not bundled" but usable when the CUDA provider library was installed alongside. */
function installedProvider(name: string): boolean {
  if (name !== 'cuda' && name !== 'tensorrt') return false
  try {
    const dir = require.resolve('onnxruntime-node/package.json').replace(/package\.json$/, '')
    const lib = name === 'cuda' ? 'libonnxruntime_providers_cuda.so' : 'libonnxruntime_providers_tensorrt.so'
    readFileSync(`${dir}bin/napi-v6/${process.platform}/${process.arch}/${lib}`, {flag: 'r'}).subarray(0, 1)
    return true
  } catch {
    return false
  }
}

export interface ProviderChoice {
  providers: string[]
  device: string
  note: string
}

export function chooseProviders(device: SessionOptions['device'] = 'auto'): ProviderChoice {
  if (device === 'cpu') return {providers: ['cpu'], device: 'cpu', note: 'cpu requested'}
  // WebGPU is bundled but needs a GPU adapter; it is only used when asked for explicitly.
  const gpus = availableGpuProviders().filter((p) => p !== 'webgpu' || device === 'gpu')
  if (device === 'gpu') {
    if (gpus.length === 0) throw new TfsoptError('E_DEVICE', `--device gpu: this onnxruntime-node has no GPU execution provider; ${ORT_GPU_FIX}`)
    return {providers: [...gpus, 'cpu'], device: gpus[0]!, note: `gpu requested: ${gpus.join(' > ')}`}
  }
  if (gpus.length) return {providers: [...gpus, 'cpu'], device: gpus[0]!, note: `auto chose ${gpus[0]} (installed)`}
  return {providers: ['cpu'], device: 'cpu', note: 'auto chose cpu: no CUDA/TensorRT provider installed'}
}

function toOrtTensor(t: Tensor): OrtNs.Tensor {
  const O = ort()
  return new O.Tensor(t.dtype as never, t.data as never, t.dims)
}

function fromOrtTensor(t: OrtNs.Tensor): Tensor {
  return {dtype: t.type as Tensor['dtype'], dims: [...t.dims], data: t.data as Tensor['data']}
}

export class OnnxSession implements InferenceSession {
  readonly backend = 'onnx' as const
  readonly engine: string
  constructor(
    private readonly session: OrtNs.InferenceSession,
    readonly inputs: TensorInfo[],
    readonly outputs: TensorInfo[],
    readonly device: string,
    readonly deviceNote: string,
  ) {
    this.engine = `onnxruntime-node ${ort().env.versions.node ?? ''}`.trim()
  }

  static async load(path: string, opts: SessionOptions = {}): Promise<OnnxSession> {
    const model = readModel(path)
    const initNames = new Set((model.graph!.initializer ?? []).map((t) => t.name))
    const inputs = (model.graph!.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(valueInfoToTensorInfo)
    const outputs = (model.graph!.output ?? []).map(valueInfoToTensorInfo)
    const choice = chooseProviders(opts.device)
    const options: OrtNs.InferenceSession.SessionOptions = {
      executionProviders: choice.providers as never,
      graphOptimizationLevel: 'all',
    }
    if (opts.intraOpThreads) options.intraOpNumThreads = opts.intraOpThreads
    if (opts.interOpThreads) options.interOpNumThreads = opts.interOpThreads
    if (opts.interOpThreads && opts.interOpThreads > 1) options.executionMode = 'parallel'
    // Session config entries (onnxruntime_session_options_config_keys.h), passed through `extra`.
    if (!opts.allowSpinning) options.extra = {session: {intra_op: {allow_spinning: '0'}, inter_op: {allow_spinning: '0'}}}
    let session: OrtNs.InferenceSession
    try {
      session = await ort().InferenceSession.create(path, options)
    } catch (err) {
      const msg = (err as Error).message.split('\n')[0]
      // A GPU provider that is present but cannot start (e.g. webgpu with no adapter) is a device
      // problem with a known fix, not a broken model.
      if (choice.device !== 'cpu')
        throw new TfsoptError(
          'E_DEVICE',
          `--device ${opts.device ?? 'auto'}: onnxruntime could not start the ${choice.device} execution provider (${msg}); ${ORT_GPU_FIX}`,
        )
      throw new TfsoptError('E_RUNTIME', `onnxruntime could not load ${path}: ${msg}`)
    }
    return new OnnxSession(session, inputs, outputs, choice.device, choice.note)
  }

  async run(feeds: Feeds, outputNames?: string[]): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, OrtNs.Tensor> = {}
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(v)
    const res = outputNames ? await this.session.run(ortFeeds, outputNames) : await this.session.run(ortFeeds)
    const out: Record<string, Tensor> = {}
    for (const [k, v] of Object.entries(res)) out[k] = fromOrtTensor(v)
    return out
  }

  async dispose(): Promise<void> {
    await this.session.release()
  }
}
