/**
 * Warm-up requests that ship with a model version, replayed by every worker before the version is
 * AVAILABLE (TF Serving's SavedModel warm-up). Two files in `<version dir>/assets.extra/`:
 *   - `tfsopt_warmup.jsonl`: one TF Serving REST predict body per line ({"instances": ...} or {"inputs": ...});
 *   - `tf_serving_warmup_requests`: TF Serving's own TFRecord file of PredictionLog protos (predict_log
 *     records are replayed; others are refused). TFRecord framing per record: uint64 length (LE), uint32
 *     masked CRC32C of those 8 bytes, the data, uint32 masked CRC32C of the data; both CRCs are checked.
 * At most 1000 records in all, as TF Serving.
 */
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fromBinary} from '@bufbuild/protobuf'
import {TfsoptError} from '../errors.js'
import type {Feeds} from '../runtime/types.js'
import {PredictRequestSchema} from './grpc/gen/tensorflow_serving/apis/predict_pb.js'
import {tensorFromProto} from './grpc/tensor-proto.js'

export const WARMUP_JSONL = join('assets.extra', 'tfsopt_warmup.jsonl')
export const WARMUP_TFRECORD = join('assets.extra', 'tf_serving_warmup_requests')
export const MAX_WARMUP_RECORDS = 1000

/** One warm-up request: a REST body the worker decodes against the model's inputs, or decoded tensors. */
export type WarmupRequest = {where: string; json: string} | {where: string; feeds: Feeds}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[i] = c >>> 0
  }
  return t
})()

/** CRC-32C (Castagnoli), as TFRecord uses. */
export function crc32c(buf: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant. */
export function maskedCrc(buf: Uint8Array): number {
  const c = crc32c(buf)
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0
}

/** Splits a TFRecord file into its records, checking both CRCs of every record. */
export function readTfRecords(buf: Buffer, file: string): Buffer[] {
  const out: Buffer[] = []
  let off = 0
  while (off < buf.length) {
    if (off + 12 > buf.length) throw corrupt(file, out.length, 'the file ends inside a record header')
    const len = buf.readBigUInt64LE(off)
    if (buf.readUInt32LE(off + 8) !== maskedCrc(buf.subarray(off, off + 8))) throw corrupt(file, out.length, 'the length CRC does not match')
    const n = Number(len)
    if (off + 12 + n + 4 > buf.length) throw corrupt(file, out.length, `the record says ${n} bytes but the file ends first`)
    const data = buf.subarray(off + 12, off + 12 + n)
    if (buf.readUInt32LE(off + 12 + n) !== maskedCrc(data)) throw corrupt(file, out.length, 'the data CRC does not match')
    out.push(data)
    off += 12 + n + 4
  }
  return out
}

/** Frames records as a TFRecord file (tests and tools write warm-up files with it). */
export function writeTfRecords(records: Uint8Array[]): Buffer {
  const parts: Buffer[] = []
  for (const r of records) {
    const head = Buffer.alloc(12)
    head.writeBigUInt64LE(BigInt(r.length), 0)
    head.writeUInt32LE(maskedCrc(head.subarray(0, 8)), 8)
    const tail = Buffer.alloc(4)
    tail.writeUInt32LE(maskedCrc(r), 0)
    parts.push(head, Buffer.from(r), tail)
  }
  return Buffer.concat(parts)
}

const corrupt = (file: string, i: number, why: string) =>
  new TfsoptError('E_CORRUPT', `warm-up file ${file}: record ${i + 1} is corrupt (${why}); fix or remove the file`)

function varint(buf: Uint8Array, off: number): [number, number] {
  let v = 0
  let mul = 1
  for (let i = off; i < buf.length; i++) {
    const b = buf[i]!
    v += (b & 0x7f) * mul
    if (!(b & 0x80)) return [v, i + 1]
    mul *= 128
  }
  throw new Error('truncated varint')
}

/** The length-delimited field `field` of a protobuf message, or undefined (a minimal wire-format walk). */
function subMessage(buf: Uint8Array, field: number): Uint8Array | undefined {
  let off = 0
  while (off < buf.length) {
    const [key, o1] = varint(buf, off)
    const wire = key & 7
    off = o1
    if (wire === 0) off = varint(buf, off)[1]
    else if (wire === 1) off += 8
    else if (wire === 5) off += 4
    else if (wire === 2) {
      const [len, o2] = varint(buf, off)
      if (key >>> 3 === field) return buf.subarray(o2, o2 + len)
      off = o2 + len
    } else throw new Error(`unsupported wire type ${wire}`)
  }
  return undefined
}

/** PredictionLog (field 6: predict_log) → PredictLog (field 1: request) → the request's input tensors. */
export function predictLogFeeds(record: Uint8Array, where: string): Feeds {
  let req: Uint8Array | undefined
  try {
    const log = subMessage(record, 6)
    req = log && subMessage(log, 1)
  } catch (err) {
    throw new TfsoptError('E_CORRUPT', `${where}: not a PredictionLog (${(err as Error).message})`)
  }
  if (!req) throw new TfsoptError('E_UNSUPPORTED', `${where}: only predict_log records can be replayed (classify/regress/multi-inference are not served)`)
  const r = fromBinary(PredictRequestSchema, req)
  const feeds: Feeds = {}
  for (const [name, t] of Object.entries(r.inputs)) feeds[name] = tensorFromProto(t, `${where}: input '${name}'`, {maxBytes: 256 * 1024 * 1024})
  return feeds
}

/** The warm-up requests beside a version (none when it has no assets.extra files); refuses a bad file. */
export function readWarmup(versionDir: string): WarmupRequest[] {
  const out: WarmupRequest[] = []
  const jsonl = join(versionDir, WARMUP_JSONL)
  if (existsSync(jsonl)) {
    const lines = readFileSync(jsonl, 'utf8').split('\n')
    lines.forEach((line, i) => {
      if (line.trim()) out.push({where: `${jsonl} line ${i + 1}`, json: line})
    })
  }
  const rec = join(versionDir, WARMUP_TFRECORD)
  if (existsSync(rec))
    readTfRecords(readFileSync(rec), rec).forEach((r, i) => out.push({where: `${rec} record ${i + 1}`, feeds: predictLogFeeds(r, `${rec} record ${i + 1}`)}))
  if (out.length > MAX_WARMUP_RECORDS)
    throw new TfsoptError('E_USAGE', `${versionDir}: ${out.length} warm-up requests; at most ${MAX_WARMUP_RECORDS} are replayed (as TF Serving), remove some`)
  return out
}
