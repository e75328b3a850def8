// The ONNX schema is the current one (IR 10+: int4, float8, node metadata_props, function overloads)
// and decode→encode loses nothing, not even fields it does not know.
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BinaryWriter, WireType} from '@bufbuild/protobuf/wire'
import {decodeModel, encodeModel, newModel, newNode, newTensor, readModel} from '../../src/models/onnx/proto.js'
import {makeModel, makeNode} from '../../src/models/onnx/builder.js'
import {makeTensor, makeValueInfo} from '../../src/models/onnx/tensor.js'
import {PACKAGE_ROOT, fixture} from '../../src/fixtures.js'
import {carries, countWireField, plantUnknownFields} from '../support/unknown-fields.js'

const dir = mkdtempSync(join(tmpdir(), 'tfsopt-schema-'))

test('unknown fields at model, graph, node and tensor level survive decode→encode byte for byte, each at its level', () => {
  const bytes = encodeModel(plantUnknownFields(readModel(fixture('models', 'mnist-mlp.onnx'))))
  const nodes = decodeModel(bytes).graph!.node.length
  const inits = decodeModel(bytes).graph!.initializer.length
  assert.equal(countWireField(bytes, 'model'), 1)
  assert.equal(countWireField(bytes, 'node'), nodes)
  const again = decodeModel(bytes)
  assert.ok(carries(again, 'model') && carries(again.graph!, 'graph'))
  assert.ok(again.graph!.node.every((n) => carries(n, 'node')))
  assert.ok(again.graph!.initializer.every((t) => carries(t, 'tensor')))
  const out = encodeModel(again)
  assert.deepEqual(
    (['model', 'graph', 'node', 'tensor'] as const).map((l) => countWireField(out, l)),
    [1, 1, nodes, inits],
  )
  assert.ok(Buffer.from(out).equals(Buffer.from(bytes)), 'decode→encode gives back the same bytes')
})

test('an unknown varint field appended to a model written elsewhere is read and written back', () => {
  const original = readFileSync(fixture('models', 'mnist-mlp.onnx'))
  const extra = new BinaryWriter().tag(5000, WireType.Varint).uint64(1234567890123n).finish()
  const m = decodeModel(Buffer.concat([original, extra]))
  assert.deepEqual(
    m.$unknown?.map((u) => [u.no, u.wireType]),
    [[5000, WireType.Varint]],
  )
  const out = Buffer.from(encodeModel(m))
  assert.ok(out.subarray(out.length - extra.length).equals(Buffer.from(extra)), 'the field is written back unchanged')
  // the known part is unchanged too: without the extra field it encodes as the fixture alone does
  // (not byte-equal to the file: onnx.proto is proto2, so dims are written unpacked where the old writer packed them)
  m.$unknown = undefined
  assert.ok(Buffer.from(encodeModel(m)).equals(Buffer.from(encodeModel(decodeModel(original)))))
})

/** IR 10 features: an int4 and a float8e4m3fn initializer, node metadata_props, a function with an overload. */
function ir10Model() {
  const m = makeModel({
    name: 'ir10',
    opset: 21,
    inputs: [makeValueInfo('x', 'float32', [1, 4])],
    outputs: [makeValueInfo('y', 'float32', [1, 2])],
    initializers: [
      // 8 int4 values packed two per byte (low nibble first): 1,-1, 2,-2, 3,-3, 7,-8
      newTensor({name: 'w4', dataType: 22, dims: [4n, 2n], rawData: Uint8Array.from([0xf1, 0xe2, 0xd3, 0x87])}),
      makeTensor('w4_scale', 'float32', [], [0.5]),
      // float8e4m3fn 1.0 = 0x38, -2.0 = 0xc0
      newTensor({name: 'b8', dataType: 17, dims: [2n], rawData: Uint8Array.from([0x38, 0xc0])}),
      makeTensor('b8_scale', 'float32', [], [1]),
    ],
    nodes: [
      makeNode('DequantizeLinear', ['w4', 'w4_scale'], ['w'], {}, 'dq_w'),
      makeNode('DequantizeLinear', ['b8', 'b8_scale'], ['b'], {}, 'dq_b'),
      makeNode('MatMul', ['x', 'w'], ['xw'], {}, 'matmul'),
      makeNode('Add', ['xw', 'b'], ['y'], {}, 'add'),
    ],
  })
  m.irVersion = 10n
  m.graph!.node[2]!.metadataProps = newNode({metadataProps: [{key: 'source', value: 'dense_1'}]}).metadataProps
  m.functions = newModel({
    functions: [
      {
        name: 'Scale',
        domain: 'tfsopt.test',
        overload: 'v2',
        input: ['a'],
        output: ['b'],
        node: [{opType: 'Identity', input: ['a'], output: ['b']}],
        opsetImport: [{domain: '', version: 21n}],
      },
    ],
  }).functions
  return m
}

test('IR 10 features (int4 and float8 initializers, node metadata_props, function overload) decode and re-encode without loss', () => {
  const bytes = encodeModel(ir10Model())
  const m = decodeModel(bytes)
  assert.equal(m.irVersion, 10n)
  assert.deepEqual(
    m.graph!.initializer.map((t) => [t.name, t.dataType, [...t.rawData]]),
    [
      ['w4', 22, [0xf1, 0xe2, 0xd3, 0x87]],
      ['w4_scale', 1, [...new Uint8Array(Float32Array.from([0.5]).buffer)]],
      ['b8', 17, [0x38, 0xc0]],
      ['b8_scale', 1, [...new Uint8Array(Float32Array.from([1]).buffer)]],
    ],
  )
  assert.deepEqual(
    m.graph!.node[2]!.metadataProps.map((p) => [p.key, p.value]),
    [['source', 'dense_1']],
  )
  assert.deepEqual(
    m.functions.map((f) => [f.domain, f.name, f.overload]),
    [['tfsopt.test', 'Scale', 'v2']],
  )
  // all of it read as known fields, nothing parked as unknown
  assert.equal(m.$unknown, undefined)
  assert.ok(m.graph!.node.every((n) => n.$unknown === undefined))
  assert.ok(Buffer.from(encodeModel(m)).equals(Buffer.from(bytes)))
})

test('tfsopt inspect names the IR 10 dtypes (int4, float8e4m3fn) and counts their packed bytes', () => {
  const path = join(dir, 'ir10.onnx')
  writeFileSync(path, encodeModel(ir10Model()))
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'bin', 'run.js'), 'inspect', path, '--json'], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(r.status, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  // 8 int4 values in 4 bytes, 2 float8 values in 2 bytes, two float32 scalars
  assert.deepEqual(report.weightBytes, {int4: 4, float32: 8, float8e4m3fn: 2})
  assert.equal(report.parameters, 8 + 2 + 2)
  assert.deepEqual(report.ops, {DequantizeLinear: 2, Add: 1, MatMul: 1})
})
