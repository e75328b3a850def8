/** onnxruntime-node backend, with execution providers picked from what the installed binary has. */
import {createRequire} from 'node:module'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type * as OrtNs from 'onnxruntime-node'
import {TfsoptError} from '../errors.js'
import {decodeModel} from '../models/onnx/proto.js'
import {isInMemory, readModelBytes} from '../models/memory-files.js'
import {valueInfoToTensorInfo} from '../models/onnx/tensor.js'
import type {TensorInfo} from '../models/dtypes.js'
import type {Feeds, InferenceSession, SessionOptions, Tensor} from './types.js'
import {type DeviceChoice, type ProviderAttempt, ORT_PROVIDER_NAMES, fixedChoice, selectDevice} from './devices.js'
import {placementFromProfile, type Placement, type TraceEvent} from './placement.js'

const require = createRequire(import.meta.url)
let ortCache: typeof OrtNs | undefined
export function ort(): typeof OrtNs {
  ortCache ??= require('onnxruntime-node') as typeof OrtNs
  return ortCache
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
  readonly device: string
  readonly deviceNote: string
  readonly attempts: ProviderAttempt[]
  constructor(
    private readonly session: OrtNs.InferenceSession,
    readonly inputs: TensorInfo[],
    readonly outputs: TensorInfo[],
    readonly choice: DeviceChoice,
    /** The profiler's output directory while profiling is on (see profileOnce). */
    private profileDir?: string,
  ) {
    this.engine = `onnxruntime-node ${ort().env.versions.node ?? ''}`.trim()
    this.device = choice.provider
    this.deviceNote = choice.note
    this.attempts = choice.attempts
  }

  static async load(path: string, opts: SessionOptions = {}): Promise<OnnxSession> {
    const bytes = readModelBytes(path)
    const model = decodeModel(bytes, path)
    const initNames = new Set((model.graph!.initializer ?? []).map((t) => t.name))
    const inputs = (model.graph!.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(valueInfoToTensorInfo)
    const outputs = (model.graph!.output ?? []).map(valueInfoToTensorInfo)
    const choice = opts.provider
      ? fixedChoice(opts.provider, opts.device ?? 'auto', `${opts.device ?? 'auto'} chose ${opts.provider}`)
      : await selectDevice(opts.device)
    const options: OrtNs.InferenceSession.SessionOptions = {
      executionProviders: choice.executionProviders as never,
      graphOptimizationLevel: 'all',
    }
    if (opts.intraOpThreads) options.intraOpNumThreads = opts.intraOpThreads
    if (opts.interOpThreads) options.interOpNumThreads = opts.interOpThreads
    if (opts.interOpThreads && opts.interOpThreads > 1) options.executionMode = 'parallel'
    // Session config entries (onnxruntime_session_options_config_keys.h), passed through `extra`.
    if (!opts.allowSpinning) options.extra = {session: {intra_op: {allow_spinning: '0'}, inter_op: {allow_spinning: '0'}}}
    // The profiler writes <prefix>_<date>.json when it is stopped; a private directory makes it findable.
    const profileDir = opts.profile ? mkdtempSync(join(tmpdir(), 'tfsopt-profile-')) : undefined
    if (profileDir) {
      options.enableProfiling = true
      options.profileFilePrefix = join(profileDir, 'run')
    }
    let session: OrtNs.InferenceSession
    try {
      // A decrypted model exists only in memory: onnxruntime takes its bytes. From disk it takes the path,
      // so external data files beside the model are found.
      session = isInMemory(path) ? await ort().InferenceSession.create(bytes, options) : await ort().InferenceSession.create(path, options)
    } catch (err) {
      if (profileDir) rmSync(profileDir, {recursive: true, force: true})
      const msg = (err as Error).message.split('\n')[0]
      // The provider started on the probe model but not on this one: a device problem, not a broken model.
      if (choice.provider !== 'cpu')
        throw new TfsoptError(
          'E_DEVICE',
          `--device ${choice.request}: onnxruntime could not open ${path} on the ${choice.provider} execution provider (${msg}); run with --device cpu`,
        )
      throw new TfsoptError('E_RUNTIME', `onnxruntime could not load ${path}: ${msg}`)
    }
    return new OnnxSession(session, inputs, outputs, choice, profileDir)
  }

  async run(feeds: Feeds, outputNames?: string[]): Promise<Record<string, Tensor>> {
    const ortFeeds: Record<string, OrtNs.Tensor> = {}
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrtTensor(v)
    const res = outputNames ? await this.session.run(ortFeeds, outputNames) : await this.session.run(ortFeeds)
    const out: Record<string, Tensor> = {}
    for (const [k, v] of Object.entries(res)) out[k] = fromOrtTensor(v)
    return out
  }

  /** One profiled run; onnxruntime's profiler stops at endProfiling, so later runs cost nothing extra. */
  async profileOnce(feeds: Feeds): Promise<Placement> {
    const dir = this.profileDir
    if (!dir) throw new TfsoptError('E_RUNTIME', 'profileOnce needs a session opened with {profile: true}, and runs once')
    this.profileDir = undefined
    try {
      await this.run(feeds)
      await this.session.endProfiling()
      const file = readdirSync(dir).find((f) => f.endsWith('.json'))
      if (!file) throw new TfsoptError('E_RUNTIME', 'onnxruntime wrote no profile')
      const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TraceEvent[]
      return placementFromProfile(events, this.choice.provider === 'cpu' ? undefined : ORT_PROVIDER_NAMES[this.choice.provider])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }

  async dispose(): Promise<void> {
    if (this.profileDir) rmSync(this.profileDir, {recursive: true, force: true})
    await this.session.release()
  }
}
