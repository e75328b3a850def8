/**
 * `tfsopt encrypt` / `tfsopt decrypt`: which files make up a model, and writing a result safely — to a
 * temporary sibling of --out, renamed into place only when complete, never over the input.
 */
import {existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {basename, dirname, join, relative, resolve, sep} from 'node:path'
import {TfsoptError} from '../../errors.js'
import {detectModel} from '../detect.js'
import {readModel, DataLocation} from '../onnx/proto.js'
import {readTfjsModelJson} from '../tfjs/artifacts.js'
import {keyId, readHeader, seal, unseal, type BundleFile, type SealedHeader} from './container.js'
import {modelKey} from './key.js'

export interface SealReport {
  command: 'encrypt' | 'decrypt'
  input: string
  output: string
  format: SealedHeader['format']
  files: {name: string; bytes: number}[]
  /** The container's key id (a hash of the key, safe to show): which key a file needs. */
  keyId: string
  bytes: number
}

/** The files of a plain ONNX or TF.js model, named relative to the model's directory. */
export function modelBundle(input: string): {header: SealedHeader; files: BundleFile[]; paths: string[]} {
  const det = detectModel(input)
  if (det.sealed)
    throw new TfsoptError('E_USAGE', `${input} is already encrypted; decrypt it first (tfsopt decrypt) if you mean to re-encrypt it with another key`)
  if (det.format === 'savedmodel')
    throw new TfsoptError('E_UNSUPPORTED', `${input} is a TensorFlow SavedModel; tfsopt encrypts ONNX and TF.js models (convert it first)`)
  const main = det.path
  const dir = dirname(main)
  const paths = [main]
  if (det.format === 'onnx') {
    const external = (readModel(main).graph?.initializer ?? []).filter((t) => t.dataLocation === DataLocation.EXTERNAL)
    if (external.length)
      throw new TfsoptError(
        'E_UNSUPPORTED',
        `${main} keeps ${external.length} weight(s) in external data files; encrypt a model with its weights inline (onnx.save(model, path, save_as_external_data=False); models under 2 GB fit)`,
      )
  } else {
    const json = readTfjsModelJson(main)
    for (const group of json.weightsManifest)
      for (const p of group.paths) {
        const file = resolve(dir, p)
        if (!file.startsWith(dir + sep)) throw new TfsoptError('E_FORMAT', `weight shard path ${p} escapes the model directory`)
        const found = [file, `${file}.min.js`, file.replace(/(\.bin)?$/, '.min.js')].find((f) => existsSync(f))
        if (!found) throw new TfsoptError('E_NOT_FOUND', `weight shard ${file} is missing; copy every shard listed in model.json next to it`)
        paths.push(found)
      }
  }
  const files = paths.map((p) => ({name: relative(dir, p).split(sep).join('/'), bytes: readFileSync(p)}))
  return {header: {format: det.format, main: basename(main), name: det.format === 'onnx' ? basename(main) : basename(dir)}, files, paths}
}

/** Writes `write(tmp)` to a temporary sibling of `out` and renames it into place; nothing is left behind on failure. */
export function writeAtomically(out: string, write: (tmp: string) => void): void {
  const target = resolve(out)
  const tmp = join(dirname(target), `.tfsopt-tmp-${process.pid}-${basename(target)}`)
  rmSync(tmp, {recursive: true, force: true})
  try {
    write(tmp)
    renameSync(tmp, target)
  } catch (err) {
    rmSync(tmp, {recursive: true, force: true})
    throw err
  }
}

function checkOut(out: string, inputs: string[], force: boolean): void {
  const b = resolve(out)
  if (inputs.some((p) => resolve(p) === b)) throw new TfsoptError('E_EXISTS', `--out ${out} is the input; refusing to overwrite it (write elsewhere)`)
  if (existsSync(b) && !force) throw new TfsoptError('E_EXISTS', `${out} already exists; choose another --out or pass --force to replace it`)
  if (existsSync(b) && statSync(b).isDirectory()) throw new TfsoptError('E_EXISTS', `${out} is a directory; name the file to write`)
  if (!existsSync(dirname(b))) throw new TfsoptError('E_NOT_FOUND', `the directory for --out (${dirname(b)}) does not exist`)
}

export function encryptModel(a: {input: string; out: string; force?: boolean}): SealReport {
  const key = modelKey('tfsopt encrypt')
  const {header, files, paths} = modelBundle(a.input)
  checkOut(a.out, [resolve(a.input), ...paths], !!a.force)
  const sealed = seal(header, files, key)
  writeAtomically(a.out, (tmp) => writeFileSync(tmp, sealed))
  return {
    command: 'encrypt',
    input: a.input,
    output: a.out,
    format: header.format,
    files: files.map((f) => ({name: f.name, bytes: f.bytes.byteLength})),
    keyId: keyId(key).toString('hex'),
    bytes: sealed.length,
  }
}

/** A one-file model becomes that file; a TF.js bundle becomes a directory holding model.json and its shards. */
export function decryptModel(a: {input: string; out: string; force?: boolean}): SealReport {
  const key = modelKey('tfsopt decrypt')
  const buf = readFileSync(a.input)
  const {files, header} = unseal(buf, key, a.input)
  const target = resolve(a.out)
  if (target === resolve(a.input)) throw new TfsoptError('E_EXISTS', `--out ${a.out} is the input; refusing to overwrite it (write elsewhere)`)
  if (existsSync(target) && !a.force) throw new TfsoptError('E_EXISTS', `${a.out} already exists; choose another --out or pass --force to replace it`)
  if (!existsSync(dirname(target))) throw new TfsoptError('E_NOT_FOUND', `the directory for --out (${dirname(target)}) does not exist`)
  for (const f of files)
    if (resolve(target, f.name) === resolve(target) || !resolve(target, f.name).startsWith(target + sep))
      throw new TfsoptError('E_TAMPERED', `${a.input} names a file outside its bundle (${f.name}); refusing to write it`)
  // A file is replaced by the rename itself; a directory (a TF.js bundle decrypted before) cannot be.
  if (existsSync(target) && statSync(target).isDirectory()) rmSync(target, {recursive: true, force: true})
  writeAtomically(a.out, (tmp) => {
    if (files.length === 1) return writeFileSync(tmp, files[0]!.bytes)
    for (const f of files) {
      mkdirSync(dirname(join(tmp, f.name)), {recursive: true})
      writeFileSync(join(tmp, f.name), f.bytes)
    }
  })
  return {
    command: 'decrypt',
    input: a.input,
    output: a.out,
    format: header.format,
    files: files.map((f) => ({name: f.name, bytes: f.bytes.byteLength})),
    keyId: readHeader(buf, a.input).keyId.toString('hex'),
    bytes: files.reduce((s, f) => s + f.bytes.byteLength, 0),
  }
}
