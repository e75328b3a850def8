/** Small real ONNX models built with tfsopt's own writer, shared by the server and reliability suites. */
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {encodeModel} from '../../src/models/onnx/proto.js'
import {makeTensor, makeValueInfo} from '../../src/models/onnx/tensor.js'
import type {DType, Dim} from '../../src/models/dtypes.js'
import {DEFAULT_MODEL, packagedModel} from '../../src/fixtures.js'

function save(path: string, model: ReturnType<typeof makeModel>): string {
  writeFileSync(path, encodeModel(model))
  return path
}

/** The MNIST MLP when it has been built, else the PP-OCR direction classifier. */
export function primaryModel(): {path: string; input: string; rowShape: number[]} {
  if (existsSync(DEFAULT_MODEL)) return {path: DEFAULT_MODEL, input: 'input', rowShape: [784]}
  return {path: packagedModel('ppocr-cls')!, input: 'x', rowShape: [3, 48, 192]}
}

/** y = x * scale, x float32 [batch, 4] (versions differ by scale). */
export function scaleModel(path: string, scale: number): string {
  return save(
    path,
    makeModel({
      name: 'scale',
      nodes: [makeNode('Mul', ['x', 'k'], ['y'])],
      inputs: [makeValueInfo('x', 'float32', ['batch', 4])],
      outputs: [makeValueInfo('y', 'float32', ['batch', 4])],
      initializers: [makeTensor('k', 'float32', [1], [scale])],
    }),
  )
}

/** Three inputs of three types, three outputs: a*2 (float), b+1 (int64), not(flag) (bool). */
export function multiModel(path: string): string {
  return save(
    path,
    makeModel({
      name: 'multi',
      nodes: [makeNode('Mul', ['a', 'two'], ['doubled']), makeNode('Add', ['b', 'one'], ['incremented']), makeNode('Not', ['flag'], ['negated'])],
      inputs: [makeValueInfo('a', 'float32', ['batch', 3]), makeValueInfo('b', 'int64', ['batch', 2]), makeValueInfo('flag', 'bool', ['batch'])],
      outputs: [
        makeValueInfo('doubled', 'float32', ['batch', 3]),
        makeValueInfo('incremented', 'int64', ['batch', 2]),
        makeValueInfo('negated', 'bool', ['batch']),
      ],
      initializers: [makeTensor('two', 'float32', [1], [2]), makeTensor('one', 'int64', [1], [1])],
    }),
  )
}

/** Strings in, the same strings out twice: once plainly, once under a *_bytes name (answered as b64). */
export function stringModel(path: string): string {
  return save(
    path,
    makeModel({
      name: 'strings',
      nodes: [makeNode('Identity', ['text'], ['echo']), makeNode('Identity', ['text'], ['echo_bytes'])],
      inputs: [makeValueInfo('text', 'string', ['batch'])],
      outputs: [makeValueInfo('echo', 'string', ['batch']), makeValueInfo('echo_bytes', 'string', ['batch'])],
      initializers: [],
    }),
  )
}

export const IDENTITY_TYPES: DType[] = ['float16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'uint64']

/** One Identity per element type: in_<type> → out_<type>, each [batch, 2]. */
export function typesModel(path: string): string {
  return save(
    path,
    makeModel({
      name: 'types',
      nodes: IDENTITY_TYPES.map((t) => makeNode('Identity', [`in_${t}`], [`out_${t}`])),
      inputs: IDENTITY_TYPES.map((t) => makeValueInfo(`in_${t}`, t, ['batch', 2] as Dim[])),
      outputs: IDENTITY_TYPES.map((t) => makeValueInfo(`out_${t}`, t, ['batch', 2] as Dim[])),
      initializers: [],
      opset: 19,
    }),
  )
}

/** A model without a dynamic batch dimension: x float32 [1, 4] → relu. */
export function fixedModel(path: string): string {
  return save(
    path,
    makeModel({
      name: 'fixed',
      nodes: [makeNode('Relu', ['x'], ['y'])],
      inputs: [makeValueInfo('x', 'float32', [1, 4])],
      outputs: [makeValueInfo('y', 'float32', [1, 4])],
      initializers: [],
    }),
  )
}

/** A TF Serving base path holding version directories with scale models. */
export function versionedBase(dir: string, versions: Record<number, number>): string {
  for (const [v, scale] of Object.entries(versions)) {
    mkdirSync(join(dir, v), {recursive: true})
    scaleModel(join(dir, v, 'model.onnx'), scale)
  }
  return dir
}
