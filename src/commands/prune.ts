import {Args, Flags} from '@oclif/core'
import {BaseCommand, keyFileFlag} from '../base-command.js'
import {useKeyFile} from '../models/sealed/key.js'
import {TfsoptError} from '../errors.js'
import {pruneModel, type PruneReport} from '../optimizers/service/prune.js'
import {renderReport} from '../optimizers/service/render.js'
import {splitList} from '../optimizers/select.js'
import type {PruneMethod} from '../optimizers/prune/onnx-prune.js'

export default class Prune extends BaseCommand {
  static override summary = 'Prune an ONNX model (magnitude, N:M, or structured neuron/filter removal) and report sparsity, size, latency and accuracy'
  static override description =
    'Unstructured methods zero weights (same shapes: smaller once compressed, not faster on dense kernels); structured removes whole neurons/filters and the matching inputs of the next layer (really smaller and faster; also Conv→Flatten→Gemm and Conv→Conv), and with data ranks them by activation variance × outgoing weight norm² and folds their mean activation into the next bias. See docs/OPTIMIZE.md.'
  static override examples = [
    '<%= config.bin %> prune fixtures/models/mnist-mlp.onnx --out /tmp/mlp-pruned.onnx --method structured --sparsity 0.3 --eval-data fixtures/data/mnist-eval.json',
    '<%= config.bin %> prune fixtures/models/mnist-cnn.onnx --out /tmp/cnn-pruned.onnx --method structured --sparsity 0.25 --calibration-data calib.jsonl --eval-data fixtures/data/mnist-eval.json',
    '<%= config.bin %> prune model.onnx --out model-24.onnx --method n:m --pattern 2:4',
  ]
  static override args = {input: Args.string({required: true, description: 'ONNX model'})}
  static override flags = {
    ...keyFileFlag,
    out: Flags.string({char: 'o', required: true, description: 'output .onnx file'}),
    sparsity: Flags.string({default: '0.5', description: 'fraction of weights (magnitude) or neurons/filters (structured) to remove, in (0, 1)'}),
    method: Flags.string({options: ['magnitude', 'n:m', 'structured'], default: 'magnitude'}),
    scope: Flags.string({options: ['layer', 'global'], default: 'layer', description: 'magnitude: one threshold per layer, or one for all layers'}),
    pattern: Flags.string({default: '2:4', description: 'N:M pattern for --method n:m'}),
    include: Flags.string({multiple: true, description: 'glob of node or weight names to prune (repeatable)'}),
    exclude: Flags.string({multiple: true, description: 'glob of node or weight names to leave alone (repeatable)'}),
    'eval-data': Flags.string({
      description:
        'data for fidelity/accuracy (labels enable accuracy); also the activation statistics of --method structured when no --calibration-data is given',
    }),
    'calibration-data': Flags.string({
      description:
        "structured: inputs whose activation statistics rank neurons/filters (variance × outgoing norm²) and whose mean activations are folded into the next layer's bias",
    }),
    'calibration-samples': Flags.integer({min: 1, default: 512, description: 'samples used for the activation statistics'}),
    'data-aware': Flags.boolean({
      default: true,
      allowNo: true,
      description: 'structured: use activation statistics when data is given (--no-data-aware: rank by incoming-weight L2 norm, no bias compensation)',
    }),
    threads: Flags.integer({min: 1, default: 1, description: 'intra-op threads for the latency comparison'}),
    'latency-batches': Flags.string({default: '1,32'}),
    force: Flags.boolean({default: false, description: 'allow replacing an existing --out (even the input)'}),
  }

  async run(): Promise<PruneReport> {
    const {args, flags} = await this.parse(Prune)
    useKeyFile(flags['key-file'])
    const sparsity = Number(flags.sparsity)
    if (!Number.isFinite(sparsity)) throw new TfsoptError('E_USAGE', `--sparsity must be a number in (0, 1), got ${flags.sparsity}`)
    const report = await pruneModel({
      input: args.input,
      out: flags.out,
      sparsity,
      method: flags.method as PruneMethod,
      scope: flags.scope as 'layer' | 'global',
      pattern: flags.pattern,
      include: flags.include,
      exclude: flags.exclude,
      evalData: flags['eval-data'],
      calibrationData: flags['calibration-data'],
      calibrationSamples: flags['calibration-samples'],
      dataAware: flags['data-aware'],
      force: flags.force,
      threads: flags.threads,
      latencyBatches: (splitList(flags['latency-batches']) ?? []).map((b) => {
        const x = Number(b)
        if (!Number.isInteger(x) || x < 1) throw new TfsoptError('E_USAGE', `--latency-batches takes positive integers, got ${b}`)
        return x
      }),
      log: (m) => this.say(m),
    })
    this.say(renderReport(report))
    return report
  }
}
