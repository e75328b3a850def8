import {Args, Flags} from '@oclif/core'
import {basename, extname} from 'node:path'
import {BaseCommand, deviceFlags, keyFileFlag} from '../base-command.js'
import {useKeyFile} from '../models/sealed/key.js'
import {usageError} from '../errors.js'
import {DEFAULT_MODEL, DEFAULT_MODEL_NAME} from '../fixtures.js'
import {readModelConfigFile, startServer, SERVE_DEFAULTS, type ModelSpec} from '../server/index.js'
import {describeBatching} from '../server/batching-config.js'
import {validateModelName} from '../server/model-config.js'
import {readAccessLogConfig} from '../server/server-config.js'
import {parseSample, type AccessLogOptions} from '../server/access-log.js'
import {formatBytes} from '../server/memory-budget.js'
import {DEFAULT_LOAD_NICE} from '../server/load-priority.js'
import type {Device} from '../runtime/types.js'

/** Model name from a path: the file name without extension, or the base path's directory name. */
function nameFor(path: string): string {
  // an encrypted model is named after the model inside: mnist.onnx.enc serves as "mnist"
  const b = basename(path.replace(/[/\\]+$/, '')).replace(/\.enc$/i, '')
  const n = (b === 'model.json' || b === 'model.onnx' ? basename(path.replace(/[/\\][^/\\]+$/, '')) : b.replace(extname(b), '')).replace(
    /[^A-Za-z0-9_.-]/g,
    '_',
  )
  return n || 'model'
}

export default class Serve extends BaseCommand {
  static override description =
    "Serve models over TF Serving's REST API, with worker threads, dynamic batching, a response cache, version hot-swap and Prometheus metrics"
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve ./models/mnist --port 8501 --workers 2 --intra-op-threads 1',
    '<%= config.bin %> serve model.onnx --max-batch-size 32 --batch-timeout-micros 1000 --allowed-batch-sizes 8,16,32',
    '<%= config.bin %> serve --model-config-file models.yaml --api-key "$KEY"',
    '<%= config.bin %> serve --model-config-file models.yaml --model-memory-budget 2GiB',
    '<%= config.bin %> serve --json --port 0',
  ]

  static override args = {
    model: Args.string({description: 'model file/directory or TF Serving base path (numeric version directories); default: the bundled MNIST MLP'}),
  }

  static override flags = {
    ...keyFileFlag,
    ...deviceFlags,
    'model-name': Flags.string({description: 'name the model is served under (default: from the path; "mnist" for the bundled model)'}),
    host: Flags.string({description: 'address to bind; 127.0.0.1 keeps it local', default: SERVE_DEFAULTS.host}),
    port: Flags.integer({description: 'port (0 picks a free one)', default: SERVE_DEFAULTS.port, min: 0, max: 65535}),
    'grpc-port': Flags.integer({
      description: "also serve TF Serving's gRPC API (and KServe v2 gRPC) on this port (0 picks a free one; TF Serving uses 8500); off unless given",
      min: 0,
      max: 65535,
    }),
    'grpc-tensor-content': Flags.boolean({
      description:
        "gRPC Predict answers numeric outputs as tensor_content instead of the typed *_val fields (TF Serving's --enable_serialization_as_tensor_content)",
    }),
    workers: Flags.integer({
      description: 'inference worker threads per model version (default: (cores − 1) ÷ 2, at least 1: one core is left to the main thread)',
      min: 1,
    }),
    'intra-op-threads': Flags.integer({description: 'onnxruntime intra-op threads per worker (default: (cores − 1) ÷ workers, at least 1)', min: 1}),
    'inter-op-threads': Flags.integer({description: 'onnxruntime inter-op threads per worker', min: 1}),
    'allow-spinning': Flags.boolean({
      description:
        "let onnxruntime's thread pools spin-wait for work (lower latency on dedicated cores; burns CPU the HTTP thread needs when cores are shared)",
    }),
    'max-batch-size': Flags.integer({description: 'largest merged batch, in rows (default 64 where the model has a dynamic batch dimension)', min: 1}),
    'batch-timeout-micros': Flags.integer({description: 'how long the oldest request may wait for a batch to fill (default 0)', min: 0}),
    'max-enqueued-batches': Flags.integer({description: 'waiting batches before requests get 503 (default 128)', min: 1}),
    'allowed-batch-sizes': Flags.string({description: 'comma-separated increasing sizes to pad batches up to; the last must equal --max-batch-size'}),
    'cache-size': Flags.integer({description: 'response cache entries (0 = off)', default: 0, min: 0}),
    'cache-bytes': Flags.integer({description: 'response cache byte bound', default: SERVE_DEFAULTS.cacheBytes, min: 0}),
    'load-nice': Flags.integer({
      description: `lower a loading model's threads by this many nice steps (0-19) while it loads beside models that serve, restored when it is AVAILABLE: its CPU share when cores are busy (Linux; default ${DEFAULT_LOAD_NICE} where the server may restore priorities, else 0)`,
      min: 0,
      max: 19,
    }),
    warmup: Flags.integer({description: 'warm-up runs per worker before a version is AVAILABLE', default: SERVE_DEFAULTS.warmup, min: 0}),
    'access-log': Flags.string({
      description:
        'one JSON line per inference request (REST, gRPC, KServe v2: model, version, status, queue/compute ms, batch size, bytes, request id) to stderr or appended to this file; off by default',
    }),
    'access-log-sample': Flags.string({description: 'fraction of requests the access log records, 0..1 (default 1)'}),
    'model-config-file': Flags.string({description: 'JSON or YAML model_config_list: several models, version policies and labels'}),
    'model-memory-budget': Flags.string({
      description:
        'bytes all loaded models may hold (e.g. 512MB, 2GiB, 25% of RAM): models then load on their first request and the least recently used idle one is unloaded to make room',
    }),
    'model-load-timeout': Flags.integer({description: 'seconds a request waits for its model to load on demand (default 60)', min: 1}),
    'poll-seconds': Flags.integer({description: 'how often base paths are polled for new versions (0 = never)', default: SERVE_DEFAULTS.pollSeconds, min: 0}),
    'api-key': Flags.string({description: 'require "Authorization: Bearer KEY" (except GET /healthz)', env: 'TFSOPT_API_KEY'}),
    'max-body-bytes': Flags.integer({description: 'larger request bodies get 413', default: SERVE_DEFAULTS.maxBodyBytes, min: 1}),
    'max-inflight-body-bytes': Flags.integer({
      description: 'bytes of request bodies all requests together may hold; beyond it a request waits up to 2 s, then gets 503 (default: 1/16 of RAM)',
      min: 1,
    }),
    'json-codec': Flags.string({
      description: 'where JSON predict bodies of 64 KiB and more are parsed, and large answers written: in the inference workers, or on the main thread',
      options: ['worker', 'main'],
      default: 'worker',
    }),
    'drain-timeout': Flags.integer({
      description: 'seconds to finish queued and in-flight requests on SIGTERM/SIGINT',
      default: SERVE_DEFAULTS.drainTimeoutSeconds,
      min: 0,
    }),
    'inject-latency-ms': Flags.integer({
      description: 'fault injection: add N ms to every inference, inside the worker (to prove a known slowdown is detected)',
      default: 0,
      min: 0,
    }),
    'inject-latency-dist': Flags.string({
      description: 'distribution of the injected latency: fixed (every inference sleeps N ms) or exp (exponential with mean N ms, for the M/M models)',
      options: ['fixed', 'exp'],
      default: 'fixed',
    }),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Serve)
    useKeyFile(flags['key-file'])
    let models: ModelSpec[]
    let accessLog: AccessLogOptions | undefined
    if (flags['model-config-file']) accessLog = readAccessLogConfig(flags['model-config-file'])
    if (flags['access-log']) accessLog = {destination: flags['access-log'], sample: accessLog?.sample}
    if (flags['access-log-sample'] !== undefined) {
      if (!accessLog) throw usageError('--access-log-sample needs --access-log (or access_log in --model-config-file)')
      accessLog = {...accessLog, sample: parseSample(flags['access-log-sample'], '--access-log-sample')}
    }
    let memoryBudget: string | number | undefined = flags['model-memory-budget']
    let loadTimeout = flags['model-load-timeout']
    let loadNice = flags['load-nice']
    if (flags['model-config-file']) {
      if (args.model) throw usageError('give either MODEL or --model-config-file, not both')
      const file = readModelConfigFile(flags['model-config-file'])
      models = file.models
      memoryBudget ??= file.memoryBudget
      loadTimeout ??= file.loadTimeoutSeconds
      loadNice ??= file.loadNice
    } else {
      const path = args.model ?? DEFAULT_MODEL
      const name = flags['model-name'] ?? (args.model ? nameFor(path) : DEFAULT_MODEL_NAME)
      models = [{name: validateModelName(name, '--model-name'), path}]
    }
    const allowed = flags['allowed-batch-sizes']?.split(',').map((s) => Number(s.trim()))
    if (allowed?.some((n) => !Number.isInteger(n)))
      throw usageError(`--allowed-batch-sizes must be comma-separated integers, got "${flags['allowed-batch-sizes']}"`)
    const server = await startServer({
      models,
      host: flags.host,
      port: flags.port,
      grpcPort: flags['grpc-port'],
      grpcTensorContent: flags['grpc-tensor-content'],
      backend: flags.backend as 'auto' | 'onnx' | 'tfjs',
      device: flags.device as Device,
      workers: flags.workers,
      intraOpThreads: flags['intra-op-threads'],
      interOpThreads: flags['inter-op-threads'],
      allowSpinning: flags['allow-spinning'],
      batching: {
        maxBatchSize: flags['max-batch-size'],
        batchTimeoutMicros: flags['batch-timeout-micros'],
        maxEnqueuedBatches: flags['max-enqueued-batches'],
        allowedBatchSizes: allowed,
      },
      modelMemoryBudget: memoryBudget,
      modelLoadTimeoutSeconds: loadTimeout,
      loadNice,
      cacheSize: flags['cache-size'],
      cacheBytes: flags['cache-bytes'],
      warmup: flags.warmup,
      pollSeconds: flags['poll-seconds'],
      apiKey: flags['api-key'],
      maxBodyBytes: flags['max-body-bytes'],
      maxInflightBodyBytes: flags['max-inflight-body-bytes'],
      drainTimeoutSeconds: flags['drain-timeout'],
      jsonCodec: flags['json-codec'] as 'worker' | 'main',
      injectLatencyMs: flags['inject-latency-ms'],
      accessLog,
      injectLatencyDist: flags['inject-latency-dist'] as 'fixed' | 'exp',
    })
    const served = server.models()
    if (this.jsonEnabled()) {
      const device = {provider: server.device.provider, note: server.device.note, attempts: server.device.attempts}
      process.stdout.write(
        `${JSON.stringify({
          event: 'ready',
          url: server.url,
          ...(server.grpcTarget ? {grpc: server.grpcTarget} : {}),
          pid: server.pid,
          device,
          models: served,
          ...(server.memoryBudgetBytes !== undefined ? {memory_budget_bytes: server.memoryBudgetBytes, on_demand: server.modelNames} : {}),
        })}\n`,
      )
    } else {
      this.say(`device: ${server.device.note}`)
      for (const m of served) {
        this.say(
          `${m.name} v${m.version}: ${m.backend} on ${m.device}, ${m.workers} worker(s) × ${m.intraOpThreads ?? 'auto'} thread(s), ${describeBatching(m.batching)}${m.cache.maxEntries ? `, cache ${m.cache.maxEntries} entries` : ''} → ${server.url}/v1/models/${m.name}:predict`,
        )
      }
      if (server.memoryBudgetBytes !== undefined)
        this.say(
          `memory budget ${formatBytes(server.memoryBudgetBytes)}: ${server.modelNames.join(', ')} load on their first request → ${server.url}/v1/models/{name}:predict`,
        )
      if (server.grpcTarget) this.say(`gRPC (TF Serving PredictionService/ModelService, KServe v2 GRPCInferenceService): ${server.grpcTarget}`)
      this.say(`metrics: ${server.url}/monitoring/prometheus/metrics — Ctrl-C drains and stops`)
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        process.stderr.write(`${sig}: draining (up to ${flags['drain-timeout']} s)\n`)
        process.off('SIGINT', onInt)
        process.off('SIGTERM', onTerm)
        server.close().then(resolve, (err) => {
          process.stderr.write(`error while draining: ${(err as Error).message}\n`)
          resolve()
        })
      }
      const onInt = () => stop('SIGINT')
      const onTerm = () => stop('SIGTERM')
      process.on('SIGINT', onInt)
      process.on('SIGTERM', onTerm)
    })
    process.stderr.write('stopped\n')
  }
}
