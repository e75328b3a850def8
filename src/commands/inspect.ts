import {Args, Flags} from '@oclif/core'
import {BaseCommand, keyFileFlag} from '../base-command.js'
import {useKeyFile} from '../models/sealed/key.js'
import {inspectModel, parseInputShapes, type InspectReport} from '../inspect/index.js'
import {renderInspect} from '../inspect/render.js'
import {DEVICES, type Device} from '../runtime/types.js'

export default class Inspect extends BaseCommand {
  static override description = 'Describe a model: format, serving runtime, inputs/outputs, ops, parameters, weight bytes, and estimated FLOPs per sample'

  static override examples = [
    '<%= config.bin %> inspect fixtures/models/mnist-cnn.onnx',
    '<%= config.bin %> inspect model.onnx --input-shape x:1x3x48x192 --json',
    '<%= config.bin %> inspect model.onnx --device auto --json',
    '<%= config.bin %> inspect node_modules/nsfwjs/dist/models/mobilenet_v2/model.min.js',
  ]

  static override args = {
    model: Args.string({description: 'an .onnx file, a TF.js model.json (or its directory), or a TF Serving base path', required: true}),
  }

  static override flags = {
    ...keyFileFlag,
    'input-shape': Flags.string({
      description:
        'full input shape for the FLOPs estimate, name:1x3x48x192 (name optional for single-input models); dynamic dims otherwise default to 224 and batch to 1',
      multiple: true,
    }),
    device: Flags.string({
      description:
        'ONNX: start the model on this device (auto tries TensorRT → CUDA → WebGPU → CPU) and profile one run: which provider runs it, why the others did not, where each node ran',
      options: [...DEVICES],
    }),
    'no-compute': Flags.boolean({description: 'skip the FLOPs estimate (it runs the model once at batch 1)', default: false}),
  }

  async run(): Promise<InspectReport> {
    const {args, flags} = await this.parse(Inspect)
    useKeyFile(flags['key-file'])
    const report = await inspectModel(args.model, {
      inputShapes: parseInputShapes(flags['input-shape']),
      noCompute: flags['no-compute'],
      device: flags.device as Device | undefined,
    })
    this.say(renderInspect(report))
    return report
  }
}
