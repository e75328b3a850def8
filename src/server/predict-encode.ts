/**
 * predict-codec's encodePredict, written as bytes: the same text (the server tests compare both), but
 * float32 values go through JsonWriter's digit generator straight into the answer's buffer, with no
 * string per number. Other dtypes use tensor-json's leaf formatters.
 */
import {badRequest} from '../errors.js'
import type {Tensor} from '../runtime/types.js'
import type {BodyPool} from './body-pool.js'
import {JsonWriter} from './json-writer.js'
import {asB64, outputKeys, type PredictFormat} from './predict-codec.js'
import {encodeRange, leafFormatter} from './tensor-json.js'

/** Writes elements [offset, offset + prod(dims)) of `t` as nested lists. */
function writeRange(w: JsonWriter, t: Tensor, offset: number, dims: number[], b64: boolean): void {
  const rank = dims.length
  if (dims.includes(0)) {
    w.utf8(encodeRange(t, offset, dims, b64)) // an empty tensor: rare, the reference writes it
    return
  }
  if (rank === 0) {
    writeLeaves(w, t, offset, 1, b64, false)
    return
  }
  const last = dims[rank - 1]!
  // Odometer over the outer dimensions; the innermost runs as one flat loop.
  const idx = new Array<number>(rank - 1).fill(0)
  let k = offset
  for (let d = 0; d < rank; d++) w.byte(0x5b)
  for (;;) {
    writeLeaves(w, t, k, last, b64, true)
    k += last
    w.byte(0x5d)
    let d = rank - 2
    while (d >= 0 && ++idx[d]! === dims[d]) {
      idx[d] = 0
      w.byte(0x5d)
      d--
    }
    if (d < 0) return
    w.byte(0x2c)
    for (let j = d + 1; j < rank; j++) w.byte(0x5b)
  }
}

function writeLeaves(w: JsonWriter, t: Tensor, k: number, n: number, b64: boolean, commas: boolean): void {
  if (t.dtype === 'float32') {
    const d = t.data as Float32Array
    for (let i = 0; i < n; i++) {
      if (commas && i) w.byte(0x2c)
      w.float32(d[k + i]!)
    }
    return
  }
  const fmt = leafFormatter(t, b64)
  const ascii = t.dtype !== 'string'
  for (let i = 0; i < n; i++) {
    if (commas && i) w.byte(0x2c)
    if (ascii) w.ascii(fmt(k + i))
    else w.utf8(fmt(k + i))
  }
}

/** Row r (the 0th-dimension slice) of `t`. */
function writeRow(w: JsonWriter, t: Tensor, r: number, b64: boolean): void {
  const inner = t.dims.slice(1)
  let n = 1
  for (const d of inner) n *= d
  writeRange(w, t, r * n, inner, b64)
}

/**
 * The answer's size: for float32, the most a value can take (18 bytes: "-0.00000123456789,") and 3 bytes
 * per nested list ("[", "]", ","), so a float32 answer does not grow (a grow copies everything written so
 * far: 8% of an encode where values need 12–13 bytes against a 12-byte guess); only per-row keys of a
 * row-format answer with several outputs can still make it. Pages never written are never touched, so
 * the slack costs address space, not time. About 12 bytes per value for the other dtypes, which grow as
 * needed.
 */
function sizeHint(outputs: Record<string, Tensor>): number {
  let n = 64
  for (const k in outputs) {
    const t = outputs[k]!
    let lists = 0
    let outer = 1
    for (const d of t.dims) {
      lists += outer
      outer *= d
    }
    n += t.data.length * (t.dtype === 'float32' ? 18 : 12) + 3 * lists + k.length + 4
  }
  return n
}

/**
 * The JSON answer as bytes. With `pool` it is written into a recycled buffer: the caller gives it back
 * (pool.give) once the answer is sent. (Fresh pages for a MB-sized answer cost a third of its encode:
 * docs/BENCHMARKS.md, "Recycled answer buffers".)
 */
export function encodePredictBytes(format: PredictFormat, outputs: Record<string, Tensor>, order: string[], pool?: BodyPool): Buffer {
  const keys = outputKeys(outputs, order)
  const hint = sizeHint(outputs)
  const w = new JsonWriter(pool ? pool.take(hint) : hint)
  if (format === 'columnar') {
    if (keys.length === 1) {
      const t = outputs[keys[0]!]!
      w.ascii('{"outputs":')
      writeRange(w, t, 0, t.dims, asB64(keys[0]!, t))
      w.byte(0x7d)
      return w.result()
    }
    w.ascii('{"outputs":{')
    keys.forEach((k, i) => {
      const t = outputs[k]!
      if (i) w.byte(0x2c)
      w.utf8(`${JSON.stringify(k)}:`)
      writeRange(w, t, 0, t.dims, asB64(k, t))
    })
    w.ascii('}}')
    return w.result()
  }
  const rows = outputs[keys[0]!]!.dims[0]
  for (const k of keys) {
    const t = outputs[k]!
    if (t.dims.length === 0 || t.dims[0] !== rows) {
      throw badRequest(
        `output '${k}' has shape [${t.dims}], which has no 0th dimension matching the other outputs (${rows}); the row format ("instances") needs every output batched — use the columnar format ("inputs")`,
      )
    }
  }
  w.ascii('{"predictions":[')
  const quoted = keys.map((k) => `${JSON.stringify(k)}:`)
  for (let r = 0; r < rows!; r++) {
    if (r) w.byte(0x2c)
    if (keys.length === 1) {
      const t = outputs[keys[0]!]!
      writeRow(w, t, r, asB64(keys[0]!, t))
      continue
    }
    w.byte(0x7b)
    for (let i = 0; i < keys.length; i++) {
      const t = outputs[keys[i]!]!
      if (i) w.byte(0x2c)
      w.utf8(quoted[i]!)
      writeRow(w, t, r, asB64(keys[i]!, t))
    }
    w.byte(0x7d)
  }
  w.ascii(']}')
  return w.result()
}
