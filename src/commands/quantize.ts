import {Args, Flags} from '@oclif/core'
import {BaseCommand, keyFileFlag} from '../base-command.js'
import {useKeyFile} from '../models/sealed/key.js'
import {DEVICES, type Device} from '../runtime/types.js'
import {TfsoptError} from '../errors.js'
import {quantizeModel, type OptimizeReport} from '../optimizers/service/quantize.js'
import {renderReport} from '../optimizers/service/render.js'
import {splitList} from '../optimizers/select.js'
import type {QType} from '../optimizers/quant/math.js'
import type {CalibrationMethod} from '../optimizers/quant/calibration.js'

export default class Quantize extends BaseCommand {
  static override summary =
    'Quantise an ONNX or TF.js model (int8 dynamic/static/weight-only, float16; TF.js uint8/uint16/float16) and report size, latency, fidelity and accuracy'
  static override description =
    'Writes OUT only after it loaded and ran. With --max-accuracy-drop, quantised nodes are returned to float32 one at a time (most harmful first) until the accuracy budget holds; when it does not hold within --max-trials, the best model is written and the exit code is 1. See docs/OPTIMIZE.md.'
  static override examples = [
    '<%= config.bin %> quantize fixtures/models/mnist-mlp.onnx --out /tmp/mlp-int8.onnx --mode dynamic --eval-data fixtures/data/mnist-eval.json',
    '<%= config.bin %> quantize model.onnx --out model-qdq.onnx --mode static --per-channel --calibration-data calib.jsonl --calibration-method percentile --percentile 99.99',
    '<%= config.bin %> quantize fixtures/models/mnist-mlp.onnx --out /tmp/mlp-auto.onnx --mode auto --eval-data fixtures/data/mnist-eval.json --latency-batches 1,32 --threads 2',
    '<%= config.bin %> quantize fixtures/models/mnist-mlp-tfjs --out /tmp/mlp-tfjs-uint8 --mode uint8',
  ]
  static override args = {input: Args.string({required: true, description: 'model: .onnx file, or TF.js model.json / its directory'})}
  static override flags = {
    ...keyFileFlag,
    out: Flags.string({char: 'o', required: true, description: 'output .onnx file, or directory for a TF.js model'}),
    mode: Flags.string({
      description:
        'ONNX: dynamic|static|weight-only|float16|auto (default dynamic; auto times each node in every precision and keeps only what is faster); TF.js: uint8|uint16|float16 (default uint8)',
      options: ['dynamic', 'static', 'weight-only', 'float16', 'auto', 'uint8', 'uint16'],
    }),
    objective: Flags.string({
      options: ['latency', 'size', 'balanced'],
      description: '--mode auto: what to minimise among candidates that are not slower at any batch (balanced: latency ratio × size ratio)',
    }),
    'min-cosine': Flags.string({description: '--mode auto: fidelity budget, cosine similarity against float32 on the data (default 0.99)'}),
    'per-channel': Flags.boolean({description: 'one scale per output channel for weights (needs opset 13)', default: false}),
    'reduce-range': Flags.boolean({description: '7-bit weights (int8 −64..64, uint8 0..127) against u8s8 saturation on CPUs without VNNI', default: false}),
    'weight-type': Flags.string({options: ['int8', 'uint8'], default: 'int8', description: 'int8 is symmetric, uint8 asymmetric'}),
    'activation-type': Flags.string({
      options: ['int8', 'uint8'],
      description: "activations (default uint8, which onnxruntime's CPU provider fuses best; int8 is ORT quantize_static's default; dynamic is always uint8)",
    }),
    'calibration-data': Flags.string({description: 'inputs for activation ranges: eval-set JSON, JSON lines, or ONNX test-data directory'}),
    'calibration-method': Flags.string({options: ['minmax', 'percentile', 'entropy'], default: 'minmax'}),
    percentile: Flags.string({description: 'percentile for --calibration-method percentile (0 < P ≤ 100)', default: '99.999'}),
    'calibration-samples': Flags.integer({min: 1, default: 128, description: 'calibration samples used'}),
    'op-types': Flags.string({description: 'comma list of op types to quantise, e.g. MatMul,Conv'}),
    include: Flags.string({multiple: true, description: 'glob of node or weight names to quantise (repeatable)'}),
    exclude: Flags.string({multiple: true, description: 'glob of node or weight names to leave alone (repeatable)'}),
    'eval-data': Flags.string({description: 'data for fidelity/accuracy (labels enable accuracy): eval-set JSON, JSON lines, or ONNX test-data directory'}),
    'max-accuracy-drop': Flags.string({description: 'accuracy budget in percentage points (needs labelled --eval-data)'}),
    'max-trials': Flags.integer({
      min: 1,
      description:
        'with --max-accuracy-drop: at most N float32-fallback trials (default: until every quantised node is back in float32, which always meets the budget)',
    }),
    device: Flags.string({
      description: "where both models' latency is measured: cpu (default), auto (TensorRT → CUDA → WebGPU → CPU), gpu, or one provider",
      options: [...DEVICES],
      default: 'cpu',
    }),
    threads: Flags.integer({
      min: 1,
      description:
        "intra-op threads for every latency measurement (both models); default 1, under --mode auto `tfsopt serve`'s default ((cores − 1) ÷ workers)",
    }),
    'latency-batches': Flags.string({default: '1,32', description: 'batch sizes for the latency comparison'}),
    'strip-names': Flags.boolean({
      description:
        'ONNX: give internal tensors short ids and drop helper node names and doc strings (smaller file for tiny models; graph input/output and original node names kept)',
      default: false,
    }),
    force: Flags.boolean({description: 'allow replacing an existing --out (even the input)', default: false}),
  }

  async run(): Promise<OptimizeReport> {
    const {args, flags} = await this.parse(Quantize)
    useKeyFile(flags['key-file'])
    const num = (v: string | undefined, name: string, lo: number, hi: number) => {
      if (v === undefined) return undefined
      const x = Number(v)
      if (!Number.isFinite(x) || x < lo || x > hi) throw new TfsoptError('E_USAGE', `--${name} must be a number in [${lo}, ${hi}], got ${v}`)
      return x
    }
    const report = await quantizeModel({
      input: args.input,
      out: flags.out,
      mode: flags.mode,
      perChannel: flags['per-channel'],
      reduceRange: flags['reduce-range'],
      weightType: flags['weight-type'] as QType,
      activationType: flags['activation-type'] as QType | undefined,
      calibrationData: flags['calibration-data'],
      calibrationMethod: flags['calibration-method'] as CalibrationMethod,
      percentile: num(flags.percentile, 'percentile', 1e-9, 100),
      calibrationSamples: flags['calibration-samples'],
      opTypes: splitList(flags['op-types']),
      include: flags.include,
      exclude: flags.exclude,
      evalData: flags['eval-data'],
      maxAccuracyDrop: num(flags['max-accuracy-drop'], 'max-accuracy-drop', 0, 100),
      objective: flags.objective as 'latency' | 'size' | 'balanced' | undefined,
      minCosine: num(flags['min-cosine'], 'min-cosine', -1, 1),
      maxTrials: flags['max-trials'],
      force: flags.force,
      stripNames: flags['strip-names'],
      threads: flags.threads,
      device: flags.device as Device,
      latencyBatches: (splitList(flags['latency-batches']) ?? []).map((b) => num(b, 'latency-batches', 1, 4096)!),
      log: (m) => this.say(m),
    })
    this.say(renderReport(report))
    // A missed accuracy budget still returns the best result (and its JSON) but must fail the run.
    if (report.accuracyAware && !report.accuracyAware.met) process.exitCode = 1
    return report
  }
}
