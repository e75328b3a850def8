import {Args, Flags} from '@oclif/core'
import {BaseCommand, keyFileFlag} from '../base-command.js'
import {useKeyFile} from '../models/sealed/key.js'
import {decryptModel, type SealReport} from '../models/sealed/seal-files.js'

export default class Decrypt extends BaseCommand {
  static override description =
    'Decrypt a .enc model back to its files (one file, or a directory for a TF.js model); serving does not need this, it decrypts in memory'

  static override examples = ['<%= config.bin %> decrypt /tmp/mnist-mlp.onnx.enc --out /tmp/mnist-mlp.onnx --key-file model.key']

  static override args = {
    model: Args.string({description: 'an encrypted model (.enc)', required: true}),
  }

  static override flags = {
    out: Flags.string({char: 'o', required: true, description: 'where to write: a file for an ONNX model, a directory for a TF.js model'}),
    force: Flags.boolean({default: false, description: 'replace an existing --out (never the input)'}),
    ...keyFileFlag,
  }

  async run(): Promise<SealReport> {
    const {args, flags} = await this.parse(Decrypt)
    useKeyFile(flags['key-file'])
    const r = decryptModel({input: args.model, out: flags.out, force: flags.force})
    this.say(
      `${r.command === 'encrypt' ? 'encrypted' : 'decrypted'} ${r.input} (${r.format}, ${r.files.length} file(s)) → ${r.output}, ${r.bytes} bytes; key id ${r.keyId}`,
    )
    return r
  }
}
