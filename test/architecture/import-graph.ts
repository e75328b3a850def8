/**
 * The import graph of src/ folded into rooms: a room is the first folder under src/ (`bench`, `models`, …);
 * a file directly in src/ (`errors.ts`) is a room of its own. Read from the source text, so the
 * architecture tests need no build and no compiler API (TypeScript 7 ships none).
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve, sep} from 'node:path'

export interface ImportEdge {
  /** Importing file, relative to the repository root (posix separators). */
  file: string
  /** The specifier as written: `../runtime/load.js`, `cli-table3`, `node:fs`. */
  spec: string
  /** Room of the imported file, or undefined for packages and node built-ins. */
  room?: string
}

const NAMED = String.raw`(?:type\s+)?(?:\{[^}]*\}|\*\s+as\s+\w+|\*|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)`
// Biome formats every import and re-export to start a line, so a line-anchored match cannot pick up the
// word `import` inside a comment or string; `{…}` spans lines for long named lists.
const STATIC = new RegExp(String.raw`^(?:import|export)\s+${NAMED}\s+from\s+['"]([^'"]+)['"]`, 'gm')
const SIDE_EFFECT = /^import\s+['"]([^'"]+)['"]/gm
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
const COMMENT_LINE = /^\s*(?:\/\/|\*|\/\*)/

/** Every module specifier a TypeScript source imports or re-exports, in order of the three kinds. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = []
  for (const re of [STATIC, SIDE_EFFECT]) for (const m of source.matchAll(re)) out.push(m[1]!)
  for (const line of source.split('\n')) {
    if (COMMENT_LINE.test(line)) continue
    for (const m of line.matchAll(DYNAMIC)) out.push(m[1]!)
  }
  return out
}

/** `src/bench/run.ts` → `bench`; `src/errors.ts` → `errors.ts`. */
export function roomOf(srcRelative: string): string {
  return srcRelative.split(/[\\/]/)[0]!
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** All imports of every src/**\/*.ts under `root`, each with the room it reaches (when inside src/). */
export function scanImports(root: string): ImportEdge[] {
  const src = resolve(root, 'src')
  const edges: ImportEdge[] = []
  for (const path of walk(src).sort()) {
    const file = relative(root, path).split(sep).join('/')
    for (const spec of importSpecifiers(readFileSync(path, 'utf8'))) {
      if (!spec.startsWith('.')) {
        edges.push({file, spec})
        continue
      }
      // Specifiers name the emitted `.js`; the room of a top-level file is its `.ts` source name.
      const target = relative(src, resolve(dirname(path), spec)).replace(/\.js$/, '.ts')
      edges.push({file, spec, room: target.startsWith('..') ? undefined : roomOf(target)})
    }
  }
  return edges
}

/** Room → rooms it imports (itself left out), with the file-level imports behind each room edge. */
export function roomGraph(edges: ImportEdge[]): Map<string, Map<string, ImportEdge[]>> {
  const g = new Map<string, Map<string, ImportEdge[]>>()
  for (const e of edges) {
    const from = roomOf(e.file.replace(/^src\//, ''))
    if (!g.has(from)) g.set(from, new Map())
    if (!e.room || e.room === from) continue
    const to = g.get(from)!
    to.set(e.room, [...(to.get(e.room) ?? []), e])
    if (!g.has(e.room)) g.set(e.room, new Map())
  }
  return g
}

/** Pairs of rooms that import each other, sorted: [['bench', 'gate'], …]. */
export function mutualPairs(g: Map<string, Map<string, ImportEdge[]>>): [string, string][] {
  const pairs: [string, string][] = []
  for (const [a, outs] of g) for (const b of outs.keys()) if (a < b && g.get(b)?.has(a)) pairs.push([a, b])
  return pairs.sort((x, y) => x.join().localeCompare(y.join()))
}

/**
 * Strongly connected components with more than one room (Tarjan), each as a closed path that walks the
 * cycle (`a → b → c → a`), so a longer cycle than a pair is named as plainly as a pair.
 */
export function roomCycles(g: Map<string, Map<string, ImportEdge[]>>): string[][] {
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const sccs: string[][] = []
  const strong = (v: string): void => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of [...(g.get(v)?.keys() ?? [])].sort()) {
      if (!idx.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) sccs.push(scc.sort())
    }
  }
  for (const v of [...g.keys()].sort()) if (!idx.has(v)) strong(v)
  return sccs.map((scc) => cyclePath(g, scc)).sort((a, b) => a.join().localeCompare(b.join()))
}

/** A closed walk through every room of one component, starting at its first room (breadth-first hops). */
function cyclePath(g: Map<string, Map<string, ImportEdge[]>>, scc: string[]): string[] {
  const inScc = new Set(scc)
  const hop = (from: string, to: string): string[] => {
    const prev = new Map<string, string>([[from, '']])
    const queue = [from]
    while (queue.length > 0) {
      const v = queue.shift()!
      for (const w of [...(g.get(v)?.keys() ?? [])].sort()) {
        if (!inScc.has(w) || prev.has(w)) continue
        prev.set(w, v)
        if (w === to) {
          const path = [w]
          for (let p = v; p !== from; p = prev.get(p)!) path.unshift(p)
          return path
        }
        queue.push(w)
      }
    }
    return [to]
  }
  const path = [scc[0]!]
  const unvisited = new Set(scc.slice(1))
  while (unvisited.size > 0) {
    const next = [...unvisited][0]!
    for (const r of hop(path.at(-1)!, next)) {
      path.push(r)
      unvisited.delete(r)
    }
  }
  return [...path, ...hop(path.at(-1)!, scc[0]!)]
}

/** `bench → gate: src/bench/run.ts imports ../gate/machine.js` for up to `limit` imports per direction. */
export function explainEdge(g: Map<string, Map<string, ImportEdge[]>>, from: string, to: string, limit = 3): string {
  const es = g.get(from)?.get(to) ?? []
  const shown = es.slice(0, limit).map((e) => `${e.file} imports ${e.spec}`)
  const more = es.length > limit ? ` (+${es.length - limit} more)` : ''
  return `  ${from} → ${to}: ${shown.join('; ')}${more}`
}
