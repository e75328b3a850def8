import {Command, Flags} from '@oclif/core'
import {TfsoptError, EXIT} from './errors.js'
import {DEVICES} from './runtime/types.js'

/**
 * Every tfsopt command extends this. It keeps the contract the README promises:
 * results as JSON on stdout with --json, human text on stderr, and exit codes
 * 0 ok / 1 runtime failure / 2 usage error / 3 regression detected — also under --json, where oclif
 * would otherwise drop the exit code (oclif/core#1423).
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  /** Human-readable output goes to stderr so stdout stays clean for --json and pipes. */
  say(msg = ''): void {
    if (!this.jsonEnabled()) process.stderr.write(`${msg}\n`)
  }

  warnUser(msg: string): void {
    process.stderr.write(`warning: ${msg}\n`)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof TfsoptError) {
      // A flag parser's E_USAGE (src/cli/flags.ts) comes wrapped by oclif; the message already names the flag.
      err.message = err.message.replace(/^Parsing --\S+ \n\t/, '').replace(/\nSee more help with --help$/, '')
      const exit = err.exit
      if (this.jsonEnabled()) {
        this.logJson({error: {code: err.code, message: err.message}})
        process.exitCode = exit
        return
      }
      process.stderr.write(`error [${err.code}]: ${err.message}\n`)
      this.exit(exit)
    }
    // Under --json, oclif's Command.catch turns a parse error (unknown flag, missing argument, bad
    // option) into exit 1, dropping its oclif.exit of 2 (oclif/core#1423): re-throw it as E_USAGE.
    if (this.jsonEnabled() && err?.oclif?.exit === EXIT.USAGE) {
      return this.catch(new TfsoptError('E_USAGE', err.message.replace(/\nSee more help with --help$/, '')))
    }
    return super.catch(err)
  }
}

/** Flags several commands share, spread into their `static flags`. */
export const deviceFlags = {
  device: Flags.string({
    description:
      'where ONNX inference runs: auto tries TensorRT → CUDA → WebGPU → CPU and says why each was not used; gpu fails instead of falling back to CPU; or one provider (cpu, cuda, tensorrt, webgpu)',
    options: [...DEVICES],
    default: 'auto',
  }),
  backend: Flags.string({
    description: 'inference runtime: onnx (onnxruntime-node) or tfjs; auto follows the model format',
    options: ['auto', 'onnx', 'tfjs'],
    default: 'auto',
  }),
}

/** Encrypted models (tfsopt encrypt): the key comes from this file or $TFSOPT_MODEL_KEY, never from a flag's value. */
export const keyFileFlag = {
  'key-file': Flags.string({
    description: 'file holding the 32-byte model key (64 hex digits or base64) for encrypted (.enc) models; default: the TFSOPT_MODEL_KEY environment variable',
  }),
}
