/**
 * What the benchmark scripts share: flags, a median, a server in a child process of the script itself
 * (so the load generator and the server do not share an event loop), the tiny y = 2x model, and an
 * in-process inference rate to divide served rates by.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {makeModel, makeNode} from '../src/models/onnx/builder.js'
import {encodeModel} from '../src/models/onnx/proto.js'
import {makeTensor, makeValueInfo} from '../src/models/onnx/tensor.js'

/** `--name value` from the command line, else `dflt`. */
export const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : dflt
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * Runs the calling script again as `--child ...args` and waits for its first stdout line
 * (`READY <port> [more]`); resolves with the words after READY and the process.
 */
export async function startSelfChild(scriptUrl: string, args: string[], label = 'server'): Promise<{fields: string[]; proc: ChildProcess}> {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', fileURLToPath(scriptUrl), '--child', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({input: proc.stdout!}).once('line', resolve)
    proc.once('exit', (c) => reject(new Error(`${label} exited ${c}`)))
  })
  return {fields: line.split(' ').slice(1), proc}
}

/** Writes the tiny model (y = 2x, x [batch, 4]): a comparison about the server, not the model. */
export function writeTinyModel(path: string): string {
  writeFileSync(
    path,
    encodeModel(
      makeModel({
        name: 'tiny',
        nodes: [makeNode('Mul', ['x', 'k'], ['y'])],
        inputs: [makeValueInfo('x', 'float32', ['batch', 4])],
        outputs: [makeValueInfo('y', 'float32', ['batch', 4])],
        initializers: [makeTensor('k', 'float32', [1], [2])],
      }),
    ),
  )
  return path
}

/** Calls `run` back to back for `seconds`; completions per second. */
export async function loopRate(seconds: number, run: () => Promise<unknown>): Promise<number> {
  let n = 0
  const t0 = performance.now()
  while (performance.now() - t0 < seconds * 1000) {
    await run()
    n++
  }
  return n / ((performance.now() - t0) / 1000)
}

/**
 * Progress as it happens (stderr) and the same lines for the record at the end (stdout, `done()`), so a
 * run's figures can be piped to a file while it shows them.
 */
export function reporter(): {say: (s: string) => void; done: () => void} {
  const lines: string[] = []
  return {
    say: (s) => {
      lines.push(s)
      process.stderr.write(`${s}\n`)
    },
    done: () => process.stdout.write(`${lines.join('\n')}\n`),
  }
}

/** A float32 image as TF Serving clients write it: columnar, one number per value. */
export function columnarBody(x: Float32Array, dims: number[], write: (v: number) => string): string {
  const parts: string[] = []
  const rec = (d: number, off: number, stride: number): void => {
    parts.push('[')
    const n = dims[d]!
    const inner = stride / n
    for (let i = 0; i < n; i++) {
      if (i) parts.push(',')
      if (d === dims.length - 1) parts.push(write(x[off + i]!))
      else rec(d + 1, off + i * inner, inner)
    }
    parts.push(']')
  }
  rec(0, 0, x.length)
  return `{"inputs":${parts.join('')}}`
}
