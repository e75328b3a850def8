import {Args, Flags} from '@oclif/core'
import {BaseCommand, keyFileFlag} from '../base-command.js'
import {useKeyFile} from '../models/sealed/key.js'
import {encryptModel, type SealReport} from '../models/sealed/seal-files.js'

export default class Encrypt extends BaseCommand {
  static override description =
    'Encrypt a model at rest (AES-256-GCM): an ONNX file, or a TF.js model.json with its shards, into one .enc container that serve, inspect, quantize and prune read with the key'

  static override examples = [
    'TFSOPT_MODEL_KEY=$(cat model.key) <%= config.bin %> encrypt fixtures/models/mnist-mlp.onnx --out /tmp/mnist-mlp.onnx.enc',
    '<%= config.bin %> encrypt model/ --out model.enc --key-file model.key',
  ]

  static override args = {
    model: Args.string({description: 'an .onnx file, or a TF.js model.json (or its directory)', required: true}),
  }

  static override flags = {
    out: Flags.string({char: 'o', required: true, description: 'the encrypted container to write (conventionally MODEL.enc); never the input'}),
    force: Flags.boolean({default: false, description: 'replace an existing --out (never the input)'}),
    ...keyFileFlag,
  }

  async run(): Promise<SealReport> {
    const {args, flags} = await this.parse(Encrypt)
    useKeyFile(flags['key-file'])
    const r = encryptModel({input: args.model, out: flags.out, force: flags.force})
    this.say(
      `${r.command === 'encrypt' ? 'encrypted' : 'decrypted'} ${r.input} (${r.format}, ${r.files.length} file(s)) → ${r.output}, ${r.bytes} bytes; key id ${r.keyId}`,
    )
    return r
  }
}
