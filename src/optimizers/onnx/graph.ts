/**
 * Editing helpers over an ONNX ModelProto that every ONNX transform shares: a deep copy to edit,
 * Constant nodes turned into initializers (PaddlePaddle and tf2onnx exports keep weights in Constant
 * nodes), unique names, producer/consumer maps and opset handling.
 */
import {decodeModel, encodeModel, getAttr, opsetVersion, type ModelProto, type NodeProto, type TensorProto} from '../../models/onnx/proto.js'
import {tensorDims, tensorToFloat32, tensorDType} from '../../models/onnx/tensor.js'
import {TfsoptError} from '../../errors.js'

export const cloneModel = (m: ModelProto): ModelProto => decodeModel(encodeModel(m))

/** Moves `Constant(value=tensor)` nodes into the initializer list, so weights are found in one place. */
export function constantsToInitializers(model: ModelProto): number {
  const g = model.graph!
  const keep: NodeProto[] = []
  let moved = 0
  for (const n of g.node ?? []) {
    const v = n.opType === 'Constant' && (n.domain ?? '') === '' ? getAttr(n, 'value') : undefined
    if (v?.t && n.output?.length === 1) {
      const t = v.t as TensorProto
      t.name = n.output[0]!
      ;(g.initializer ??= []).push(t)
      moved++
    } else keep.push(n)
  }
  g.node = keep
  return moved
}

/** Gives every node a unique name (op type + index when it has none), since reports refer to names. */
export function nameNodes(model: ModelProto): void {
  const seen = new Set<string>()
  ;(model.graph!.node ?? []).forEach((n, i) => {
    let name = n.name || `${n.opType}_${i}`
    while (seen.has(name)) name = `${name}_${i}`
    n.name = name
    seen.add(name)
  })
}

export class GraphIndex {
  readonly inits = new Map<string, TensorProto>()
  readonly producer = new Map<string, NodeProto>()
  readonly consumers = new Map<string, NodeProto[]>()
  readonly graphOutputs: Set<string>
  readonly graphInputs: Set<string>
  private readonly names = new Set<string>()
  constructor(readonly model: ModelProto) {
    const g = model.graph!
    for (const t of g.initializer ?? []) this.inits.set(t.name!, t)
    for (const n of g.node ?? []) {
      for (const o of n.output ?? []) this.producer.set(o, n)
      for (const i of n.input ?? []) if (i) (this.consumers.get(i) ?? this.consumers.set(i, []).get(i)!).push(n)
      for (const o of [...(n.output ?? []), ...(n.input ?? [])]) this.names.add(o)
      this.names.add(n.name ?? '')
    }
    for (const t of this.inits.keys()) this.names.add(t)
    this.graphOutputs = new Set((g.output ?? []).map((v) => v.name!))
    this.graphInputs = new Set((g.input ?? []).map((v) => v.name!))
  }

  isConst(name: string): boolean {
    return this.inits.has(name)
  }

  /** A float32 weight (initializer) as numbers with its dims; undefined when not a float constant. */
  floatConst(name: string): {data: Float32Array; dims: number[]} | undefined {
    const t = this.inits.get(name)
    if (!t || tensorDType(t) !== 'float32') return undefined
    return {data: tensorToFloat32(t), dims: tensorDims(t)}
  }

  /** A name not used anywhere in the graph yet. */
  unique(base: string): string {
    let n = base
    let k = 1
    while (this.names.has(n)) n = `${base}_${k++}`
    this.names.add(n)
    return n
  }
}

export function modelOpset(model: ModelProto): number {
  return opsetVersion(model) ?? 1
}

/** Ops whose meaning changed between opset 11 and 13 (inputs instead of attributes, axis rules). */
const CHANGED_BY_13 = new Set([
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'Squeeze',
  'Unsqueeze',
  'Split',
  'ReduceSum',
  'Resize',
  'Slice',
  'Upsample',
  'TopK',
  'Dropout',
  'Pad',
  'Clip',
  'BatchNormalization',
  'Scan',
])

/**
 * Raises the default-domain opset to `want` when the graph uses no op whose semantics changed in
 * between (only ops whose signatures are stable from opset 11 to 13 are accepted); otherwise says
 * why it cannot. Returns the opset now in force.
 */
export function ensureOpset(model: ModelProto, want: number, why: string): number {
  const have = modelOpset(model)
  if (have >= want) return have
  const unsafe = new Set<string>()
  const ops = new Set((model.graph!.node ?? []).filter((n) => (n.domain ?? '') === '').map((n) => n.opType!))
  for (const op of ops) if (CHANGED_BY_13.has(op) || have < 11) unsafe.add(op)
  // Clip/Resize/Pad/BatchNormalization changed before 11 but not between 11 and 13 (Clip gained bf16, Resize kept its inputs).
  for (const op of ['Clip', 'Resize', 'Pad', 'BatchNormalization']) if (have >= 11) unsafe.delete(op)
  if (unsafe.size) {
    throw new TfsoptError(
      'E_UNSUPPORTED',
      `${why} needs ONNX opset ${want}, the model has opset ${have} and uses ops whose definition changed since (${[...unsafe].sort().join(', ')}); convert the model to opset ${want} first (python -m onnx.version_converter or re-export), or use another mode`,
    )
  }
  for (const o of model.opsetImport ?? []) if ((o.domain ?? '') === '' || o.domain === 'ai.onnx') o.version = BigInt(want)
  return want
}

/**
 * The common start of an ONNX transform: a private copy of the model (the input is never mutated), with
 * Constant nodes turned into initializers and every node named, plus an index over its graph.
 */
export function preparedCopy(input: ModelProto): {model: ModelProto; idx: GraphIndex} {
  const model = cloneModel(input)
  constantsToInitializers(model)
  nameNodes(model)
  return {model, idx: new GraphIndex(model)}
}
