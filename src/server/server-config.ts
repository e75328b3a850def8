/**
 * Server-wide settings in --model-config-file, beside model_config_list (which model-config.ts reads):
 *
 *   access_log: {destination: ./access.log, sample: 0.1}    # or  access_log: stderr
 *
 * A relative destination is relative to the file. Flags given on the command line win.
 */
import {readFileSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {usageError} from '../errors.js'
import {parseSample, type AccessLogOptions} from './access-log.js'

export function readAccessLogConfig(file: string): AccessLogOptions | undefined {
  let doc: unknown
  try {
    const text = readFileSync(file, 'utf8')
    doc = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text)
  } catch {
    return undefined // readModelConfig words the errors of an unreadable or invalid file
  }
  const v = (doc as {access_log?: unknown} | null)?.access_log
  if (v === undefined || v === null || v === false) return undefined
  const where = `${file}: access_log`
  const o = typeof v === 'string' ? {destination: v} : (v as {destination?: unknown; sample?: unknown})
  if (typeof o !== 'object' || typeof o.destination !== 'string' || !o.destination)
    throw usageError(`${where} must be stderr, a file path, or {destination: stderr|PATH, sample: 0..1}`)
  const destination = o.destination === 'stderr' || o.destination === '-' ? 'stderr' : resolve(dirname(resolve(file)), o.destination)
  return {destination, sample: parseSample(o.sample as number | undefined, `${where}.sample`)}
}
