import {test} from 'node:test'
import assert from 'node:assert/strict'
import {explainEdge, importSpecifiers, mutualPairs, roomCycles, roomGraph, scanImports, type ImportEdge} from './import-graph.js'

// Layering that reads top-down: the rooms of src/ (first folder under src/, or a top-level file) must form
// a graph without cycles, so each room can be read, tested and changed knowing only the rooms below it.
const edges = scanImports('.')
const graph = roomGraph(edges)

test('the scanner reads every import form biome leaves in src/ (and nothing in comments)', () => {
  const source = [
    '/** Not an import: import {x} from "../nowhere.js" */',
    "import {a, type B} from '../one.js'",
    "import type {C} from '../two.js'",
    'import {',
    '  longName,',
    '  otherName,',
    "} from '../three.js'",
    "import * as ns from 'some-package'",
    "import Table, {cell} from 'cli-table3'",
    "import './side-effect.js'",
    "export {d} from './four.js'",
    "export type * as E from './five.js'",
    "// const lazy = await import('../commented.js')",
    "  const mod = await import('../six.js')",
  ].join('\n')
  assert.deepEqual(importSpecifiers(source), [
    '../one.js',
    '../two.js',
    '../three.js',
    'some-package',
    'cli-table3',
    './four.js',
    './five.js',
    './side-effect.js',
    '../six.js',
  ])
})

test('the room graph is the real one: known imports between rooms are found', () => {
  // Guards the two tests below against passing on an empty or misread graph.
  assert.ok(graph.size >= 10, `only ${graph.size} rooms found: ${[...graph.keys()].join(', ')}`)
  assert.ok(graph.get('commands')?.has('errors.ts'), 'commands → errors.ts not found')
  assert.ok(graph.get('runtime')?.has('models'), 'runtime → models not found')
  assert.ok(graph.get('server')?.has('runtime'), 'server → runtime not found')
})

test('no two rooms of src/ import each other', () => {
  const pairs = mutualPairs(graph)
  const lines = pairs.map(([a, b]) => `${a} ↔ ${b}\n${explainEdge(graph, a, b)}\n${explainEdge(graph, b, a)}`)
  assert.deepEqual(lines, [], `rooms that import each other (move what both need to a room below both):\n${lines.join('\n')}`)
})

test('no cycle between rooms of src/ (any length)', () => {
  const cycles = roomCycles(graph)
  const lines = cycles.map((path) => {
    const hops = path.slice(1).map((to, i) => explainEdge(graph, path[i]!, to, 1))
    return `${path.join(' → ')}\n${hops.join('\n')}`
  })
  assert.deepEqual(lines, [], `import cycles between rooms:\n${lines.join('\n')}`)
})

test('models/ is below runtime/ and inspect/: it imports neither', () => {
  const up = (graph.get('models') ?? new Map<string, ImportEdge[]>()).entries()
  const bad = [...up].filter(([room]) => room === 'runtime' || room === 'inspect').flatMap(([, es]) => es.map((e) => `${e.file} imports ${e.spec}`))
  assert.deepEqual(bad, [])
})

test('queueing/ and stats/ are pure maths: no I/O, no rendering, no other room but errors.ts and stats/', () => {
  // Packages that compute and do nothing else; a renderer (cli-table3) or node: built-in means I/O or presentation.
  const pureMathPackages = new Set(['simple-statistics'])
  const bad = edges
    .filter((e) => /^src\/(queueing|stats)\//.test(e.file))
    .filter((e) => (e.room ? !['errors.ts', 'stats', 'queueing'].includes(e.room) : !pureMathPackages.has(e.spec)))
    .map((e) => `${e.file} imports ${e.spec}`)
  assert.deepEqual(bad, [])
})
