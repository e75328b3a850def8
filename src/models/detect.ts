/**
 * Where is the model and what is it? Accepts an ONNX file, a TF.js model.json (or its directory, or a
 * JS-wrapped model.min.js), a SavedModel directory, or a TF Serving base path whose numeric
 * subdirectories are versions (the latest is used unless a version is named).
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join, resolve, basename} from 'node:path'
import {TfsoptError} from '../errors.js'
import {isInMemory} from './memory-files.js'
import {inspectSealed, isSealedFile, type SealedRef} from './sealed/open.js'
import {SEALED_SUFFIX} from './sealed/container.js'

export type ModelFormat = 'onnx' | 'tfjs' | 'savedmodel'

export interface DetectedModel {
  format: ModelFormat
  /** The file (ONNX, model.json/.min.js) or directory (SavedModel) to load. */
  path: string
  /** When given a TF Serving base path: the version chosen and all versions present. */
  version?: number
  versions?: number[]
  basePath?: string
  /**
   * An encrypted model (tfsopt encrypt): `path` is then a file inside the container as mounted in memory
   * (`<container>/<main>`), readable only while mounted (sealed/open.ts).
   */
  sealed?: SealedRef
}

export function listVersions(dir: string): number[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return []
  return readdirSync(dir, {withFileTypes: true})
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b)
}

export function detectModel(input: string, version?: number): DetectedModel {
  const path = resolve(input)
  // A file of a mounted encrypted model, or an optimiser's in-memory scratch output.
  if (isInMemory(path)) return detectFile(path)
  if (!existsSync(path))
    throw new TfsoptError(
      'E_NOT_FOUND',
      `model not found: ${input} (give an .onnx file, a TF.js model.json or its directory, a SavedModel directory, or a base path with numeric version directories)`,
    )
  const st = statSync(path)
  if (st.isFile()) return detectFile(path)
  const versions = listVersions(path)
  if (versions.length) {
    const v = version ?? versions[versions.length - 1]!
    if (!versions.includes(v)) throw new TfsoptError('E_NOT_FOUND', `version ${v} not found under ${input}; versions present: ${versions.join(', ')}`)
    const inner = detectDir(join(path, String(v)))
    return {...inner, version: v, versions, basePath: path}
  }
  return detectDir(path)
}

function detectSealed(path: string): DetectedModel {
  const {header, ref} = inspectSealed(path)
  return {format: header.format, path: join(ref.container, header.main), sealed: ref}
}

function detectFile(path: string): DetectedModel {
  const name = basename(path).toLowerCase()
  if (!isInMemory(path) && isSealedFile(path)) return detectSealed(path)
  if (name.endsWith('.onnx') || name.endsWith('.ort')) return {format: 'onnx', path}
  if (name.endsWith('.json') || name.endsWith('.min.js')) return {format: 'tfjs', path}
  if (name === 'saved_model.pb' || name === 'saved_model.pbtxt') return {format: 'savedmodel', path: resolve(path, '..')}
  throw new TfsoptError('E_FORMAT', `cannot tell the format of ${path}: expected a .onnx file, a TF.js model.json, or a SavedModel directory`)
}

function detectDir(dir: string): DetectedModel {
  const entries = readdirSync(dir)
  if (entries.includes('saved_model.pb') || entries.includes('saved_model.pbtxt')) return {format: 'savedmodel', path: dir}
  if (entries.includes('model.json')) return {format: 'tfjs', path: join(dir, 'model.json')}
  if (entries.includes('model.min.js')) return {format: 'tfjs', path: join(dir, 'model.min.js')}
  const onnx = entries.filter((e) => e.toLowerCase().endsWith('.onnx'))
  const sealed = entries.filter((e) => e.toLowerCase().endsWith(SEALED_SUFFIX))
  if (!onnx.length && sealed.length === 1) return detectSealed(join(dir, sealed[0]!))
  if (!onnx.length && sealed.length > 1)
    throw new TfsoptError('E_FORMAT', `${dir} holds several encrypted models (${sealed.join(', ')}); name the one to use, or keep one per directory`)
  if (onnx.includes('model.onnx')) return {format: 'onnx', path: join(dir, 'model.onnx')}
  if (onnx.length === 1) return {format: 'onnx', path: join(dir, onnx[0]!)}
  if (onnx.length > 1) throw new TfsoptError('E_FORMAT', `${dir} holds several .onnx files (${onnx.join(', ')}); name the one to use, or call it model.onnx`)
  throw new TfsoptError(
    'E_FORMAT',
    `${dir} holds no model: expected model.onnx, model.json (TF.js), saved_model.pb, one encrypted model (.enc), or numeric version directories`,
  )
}
