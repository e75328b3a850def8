/**
 * FLOPs of an ONNX model. Intermediate shapes come from onnxruntime itself rather than a shape
 * inference of our own: the model is run once at batch 1 (dynamic dims resolved, see input-shape.ts)
 * with every counted node's operands exposed as extra graph outputs, so any op ORT can run is handled.
 */
import {newValueInfo, encodeModel, attrInt, type ModelProto, type NodeProto} from '../models/onnx/proto.js'
import {tensorDims, valueInfoToTensorInfo} from '../models/onnx/tensor.js'
import {ort} from '../runtime/onnx-session.js'
import {typedArrayFrom} from '../models/onnx/tensor.js'
import {TfsoptError} from '../errors.js'
import type {DType} from '../models/dtypes.js'
import {walkNodes} from './onnx-static.js'
import {addCount, convMacs, convTransposeMacs, matmulMacs, prod} from './macs.js'
import {resolveShapes} from './input-shape.js'
import type {ComputeEstimate} from './types.js'

/** Op types counted, with the positions of their data and weight operands. */
const COUNTED: Record<string, {x: number; w: number}> = {
  Conv: {x: 0, w: 1},
  ConvTranspose: {x: 0, w: 1},
  ConvInteger: {x: 0, w: 1},
  QLinearConv: {x: 0, w: 3},
  MatMul: {x: 0, w: 1},
  MatMulInteger: {x: 0, w: 1},
  QLinearMatMul: {x: 0, w: 3},
  Gemm: {x: 0, w: 1},
}

const isCounted = (n: NodeProto) => (!n.domain || n.domain === 'ai.onnx') && (n.opType ?? '') in COUNTED

function nodeMacs(n: NodeProto, shape: (name: string) => number[] | undefined): number | undefined {
  const spec = COUNTED[n.opType!]!
  const x = shape(n.input![spec.x]!)
  const w = shape(n.input![spec.w]!)
  const y = shape(n.output![0]!)
  if (!x || !w || !y) return undefined
  switch (n.opType) {
    case 'Conv':
    case 'ConvInteger':
    case 'QLinearConv':
      return convMacs(y, w[1]!, w.slice(2))
    case 'ConvTranspose':
      return convTransposeMacs(x, w[1]!, w.slice(2))
    case 'Gemm':
      return matmulMacs(y, attrInt(n, 'transA', 0) ? x[0]! : x[x.length - 1]!)
    default:
      return matmulMacs(y, x[x.length - 1]!)
  }
}

function zeros(dtype: DType, dims: number[]): unknown {
  const n = prod(dims)
  if (dtype === 'string') return new Array<string>(n).fill('')
  return typedArrayFrom(dtype === 'unknown' ? 'float32' : dtype, new Array<number>(n).fill(0))
}

export async function onnxCompute(model: ModelProto, given: Record<string, number[]> = {}): Promise<ComputeEstimate> {
  const g = model.graph!
  const initNames = new Set((g.initializer ?? []).map((t) => t.name ?? ''))
  const inputs = (g.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(valueInfoToTensorInfo)
  const {shapes: feedShapes, batch, assumed} = resolveShapes(inputs, given)

  // Shapes known without running: initializers, Constant outputs, graph inputs.
  const known = new Map<string, number[]>()
  for (const t of g.initializer ?? []) known.set(t.name ?? '', tensorDims(t))
  for (const n of g.node ?? [])
    if (n.opType === 'Constant') {
      const t = (n.attribute ?? []).find((a) => a.name === 'value')?.t
      if (t) known.set(n.output![0]!, tensorDims(t))
    }
  for (const [k, v] of Object.entries(feedShapes)) known.set(k, v)

  const counted = (g.node ?? []).filter(isCounted)
  const wanted = new Set<string>()
  for (const n of counted) {
    const spec = COUNTED[n.opType!]!
    for (const name of [n.input![spec.x]!, n.input![spec.w]!, n.output![0]!]) if (name && !known.has(name)) wanted.add(name)
  }

  const probed = await probeShapes(
    model,
    [...wanted],
    inputs.map((i) => ({name: i.name, dtype: i.dtype, dims: feedShapes[i.name]!})),
  )
  for (const [k, v] of probed) known.set(k, v)

  const byOp: Record<string, {count: number; macs: number}> = {}
  const perNode: ComputeEstimate['nodes'] = []
  const notes = [...assumed]
  let macs = 0
  let missing = 0
  for (const n of counted) {
    const m = nodeMacs(n, (name) => known.get(name))
    if (m === undefined) {
      missing++
      continue
    }
    addCount(byOp, n.opType!, m / batch)
    perNode.push({name: n.name || n.output![0]!, op: n.opType!, macs: m / batch})
    macs += m / batch
  }
  if (missing) notes.push(`${missing} counted-type node(s) had operands without a known shape and were skipped`)
  const nestedCounted = [...walkNodes(g)].filter(({node, depth}) => depth > 0 && isCounted(node)).length
  if (nestedCounted) notes.push(`${nestedCounted} Conv/MatMul/Gemm node(s) inside If/Loop/Scan subgraphs are not counted`)
  const present = new Set([...walkNodes(g)].map(({node}) => node.opType ?? '?'))
  const notCounted = [...present].filter((op) => !byOp[op]).sort()
  return {
    macs,
    flops: 2 * macs,
    counted: byOp,
    nodes: perNode,
    notCounted,
    inputShapes: feedShapes,
    method: 'onnxruntime run at the shapes shown, operand shapes read from the run',
    notes,
  }
}

/** Runs the model once with `names` added as graph outputs; returns each name's runtime shape. */
async function probeShapes(model: ModelProto, names: string[], feeds: {name: string; dtype: DType; dims: number[]}[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>()
  if (!names.length) return out
  const g = model.graph!
  const original = g.output ?? []
  const existing = new Set(original.map((o) => o.name))
  // Outputs without a type are allowed: onnxruntime infers them.
  g.output = [...original, ...names.filter((n) => !existing.has(n)).map((name) => newValueInfo({name}))]
  let bytes: Uint8Array
  try {
    bytes = encodeModel(model)
  } finally {
    g.output = original
  }
  const O = ort()
  let session: Awaited<ReturnType<typeof O.InferenceSession.create>>
  try {
    session = await O.InferenceSession.create(bytes, {graphOptimizationLevel: 'disabled', executionProviders: ['cpu']})
  } catch (err) {
    throw new TfsoptError('E_RUNTIME', `onnxruntime could not load the model to measure shapes: ${(err as Error).message.split('\n')[0]}`)
  }
  try {
    const ortFeeds: Record<string, InstanceType<typeof O.Tensor>> = {}
    for (const f of feeds) ortFeeds[f.name] = new O.Tensor(f.dtype as never, zeros(f.dtype, f.dims) as never, f.dims)
    let res: Awaited<ReturnType<typeof session.run>>
    try {
      res = await session.run(ortFeeds, names)
    } catch (err) {
      throw new TfsoptError(
        'E_RUNTIME',
        `running the model at ${feeds.map((f) => `${f.name}:[${f.dims.join(',')}]`).join(' ')} failed (${(err as Error).message.split('\n')[0]}); give the real input sizes with --input-shape`,
      )
    }
    for (const [k, v] of Object.entries(res)) out.set(k, [...v.dims])
  } finally {
    await session.release()
  }
  return out
}
