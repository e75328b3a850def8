/**
 * `npm run fixtures`: regenerates everything in fixtures/ from real data, deterministically.
 *   fixtures/data/mnist-eval.json            MNIST eval split, tfsopt eval-set format
 *   fixtures/models/mnist-mlp.onnx, mnist-cnn.onnx   trained here, exported with tfsopt's ONNX writer
 *   fixtures/models/mnist-{mlp,cnn}-tfjs/    the same models as TF.js layers models
 *   fixtures/models/matmul-heavy.onnx        synthetic, git-ignored (ensureMatmulHeavyFixture)
 *   fixtures/metrics.json, fixtures/README.md   accuracies measured through onnxruntime
 */
import {writeFileSync, mkdirSync} from 'node:fs'
import {dirname} from 'node:path'
import type * as TfNs from '@tensorflow/tfjs'
import {DEFAULT_EVAL_SET, fixture} from '../src/fixtures.js'
import {loadTfjs} from '../src/runtime/tfjs-backend.js'
import {encodeModel, type ModelProto} from '../src/models/onnx/proto.js'
import {loadMnistSplits, writeEvalSet} from './fixtures/mnist-data.js'
import {trainCnnIm2col} from './fixtures/train-cnn.js'
import {buildMlp, buildCnn, train, predictAll, accuracy} from './fixtures/train.js'
import {mlpToOnnx, cnnToOnnx} from './fixtures/export-onnx.js'
import {ensureMatmulHeavyFixture, MATMUL_HEAVY_PATH} from './fixtures/matmul-heavy.js'
import {saveLayersModel} from './fixtures/save-tfjs.js'
import {verifyOnnx, type OnnxCheck} from './fixtures/verify.js'
import {writeReadme} from './fixtures/readme.js'

const log = (m: string) => process.stderr.write(`${m}\n`)

function writeOnnx(path: string, model: ModelProto): void {
  mkdirSync(dirname(path), {recursive: true})
  writeFileSync(path, encodeModel(model))
}

async function main(): Promise<void> {
  const t0 = Date.now()
  const splits = loadMnistSplits()
  log(`MNIST: ${splits.train.count} train / ${splits.eval.count} eval samples`)
  writeEvalSet(DEFAULT_EVAL_SET, splits.eval)

  const tfb = await loadTfjs('cpu')
  const tf = tfb.tf
  log(`TensorFlow.js: ${tfb.pkg} (${tfb.backend})`)

  const results: Record<string, {tfjsAccuracy: number; onnx: OnnxCheck; trainBackend: string}> = {}
  const models: {
    key: 'mlp' | 'cnn'
    build: () => TfNs.Sequential
    shape: number[]
    epochs: number
    shift: number
    batch: number
    toOnnx: (m: TfNs.LayersModel) => ModelProto
  }[] = [
    {key: 'mlp', build: () => buildMlp(tf), shape: [784], epochs: 30, shift: 1, batch: 64, toOnnx: mlpToOnnx},
    {key: 'cnn', build: () => buildCnn(tf), shape: [28, 28, 1], epochs: 14, shift: 1, batch: 32, toOnnx: cnnToOnnx},
  ]
  for (const spec of models) {
    const backend = tfb.backend
    const t = Date.now()
    log(`training ${spec.key} on ${backend} (${spec.epochs} epochs)`)
    const model = spec.build()
    const opts = {
      epochs: spec.epochs,
      batchSize: spec.batch,
      learningRate: 1e-3,
      augmentShift: spec.shift,
      seed: spec.key === 'mlp' ? 101 : 202,
      sampleShape: spec.shape,
      log,
    }
    // The CNN trains as im2col + MatMul: tfjs' wasm backend cannot compute conv filter gradients.
    if (spec.key === 'cnn') await trainCnnIm2col(tf, model, splits.train, opts)
    else await train(tf, model, splits.train, opts)
    const probs = predictAll(tf, model, splits.eval, spec.shape)
    const tfjsAccuracy = accuracy(probs, splits.eval.labels)
    log(`  ${spec.key}: tfjs eval accuracy ${(tfjsAccuracy * 100).toFixed(2)}% (${((Date.now() - t) / 1000).toFixed(0)} s)`)
    const onnxPath = fixture('models', `mnist-${spec.key}.onnx`)
    writeOnnx(onnxPath, spec.toOnnx(model))
    await saveLayersModel(tf, model, fixture('models', `mnist-${spec.key}-tfjs`))
    const onnx = await verifyOnnx(onnxPath, DEFAULT_EVAL_SET, probs)
    log(`  ${spec.key}: onnxruntime eval accuracy ${(onnx.accuracy * 100).toFixed(2)}%, max |onnx - tfjs| = ${onnx.maxAbsDiff.toExponential(2)}`)
    if (onnx.argmaxAgreement !== 1)
      throw new Error(`${spec.key}: ONNX and tfjs disagree on ${((1 - onnx.argmaxAgreement) * 100).toFixed(2)}% of predictions; the export is wrong`)
    results[spec.key] = {tfjsAccuracy, onnx, trainBackend: backend}
    model.dispose()
  }

  await ensureMatmulHeavyFixture()
  log(`synthetic: ${MATMUL_HEAVY_PATH}`)

  const metrics = {
    evalSet: {path: 'fixtures/data/mnist-eval.json', count: splits.eval.count, trainCount: splits.train.count},
    models: Object.fromEntries(
      Object.entries(results).map(([k, r]) => [
        `mnist-${k}`,
        {
          onnx: `fixtures/models/mnist-${k}.onnx`,
          tfjs: `fixtures/models/mnist-${k}-tfjs/model.json`,
          fp32Accuracy: r.onnx.accuracy,
          measuredWith: 'onnxruntime-node (cpu) on fixtures/data/mnist-eval.json',
          tfjsAccuracy: r.tfjsAccuracy,
          maxAbsDiffVsTfjs: r.onnx.maxAbsDiff,
          trainedOn: `@tensorflow/tfjs ${tf.version.tfjs} (${r.trainBackend} backend)`,
        },
      ]),
    ),
  }
  writeFileSync(fixture('metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`)
  writeReadme(fixture('README.md'), metrics)
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
}

await main()
