/**
 * The gRPC side (`--grpc-port`): TF Serving's PredictionService and ModelService, and KServe v2's
 * GRPCInferenceService, on @grpc/grpc-js,
 * sharing the model versions, batchers, cache, API key and metrics with the HTTP side. Requests are
 * counted in the same per-version series as REST (by the HTTP status REST would have answered).
 */
import {waitIdle} from '../drain.js'
import {Metadata, Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation} from '@grpc/grpc-js'
import {TfsoptError} from '../../errors.js'
import type {ServerMetrics, VersionMetrics} from '../metrics.js'
import type {PredictPath} from '../predict-path.js'
import type {Servable} from '../servable.js'
import {GRPCInferenceService} from '../kserve/gen/grpc_predict_v2_pb.js'
import {modelInfer, modelMetadata, modelReady, serverMetadata} from '../kserve/v2-grpc.js'
import {ModelService} from './gen/tensorflow_serving/apis/model_service_pb.js'
import {PredictionService} from './gen/tensorflow_serving/apis/prediction_service_pb.js'
import {grpcServiceDefinition, messageBytes} from './service-def.js'
import type {AccessLog, Protocol, RequestTrace} from '../access-log.js'
import {grpcError} from './status.js'
import {getModelMetadata, getModelStatus, predict, type TfsServiceOptions} from './tfs-service.js'

export interface GrpcContext extends TfsServiceOptions {
  path: PredictPath
  metrics: ServerMetrics
  /** The largest request message accepted (grpc-js defaults to 4 MiB; TF Serving raises it too). */
  maxMessageBytes: number
  /** --access-log: one line per inference call (access-log.ts). */
  accessLog?: AccessLog
  log(line: string): void
}

interface Handled {
  vm?: VersionMetrics
  servable?: Servable
  /** Set for an access-logged call: the batcher fills in its timings. */
  trace?: RequestTrace
}

type Handler<Req, Res> = (req: Req, h: Handled) => Promise<Res> | Res

export class GrpcFront {
  readonly server: Server
  private inflight = 0
  private draining = false
  private idleWaiters: (() => void)[] = []

  constructor(private readonly ctx: GrpcContext) {
    this.server = new Server({'grpc.max_receive_message_length': ctx.maxMessageBytes, 'grpc.max_send_message_length': -1})
    const onResolved = (h: Handled) => (s: Servable) => {
      h.vm = s.metrics
      h.servable = s
    }
    this.server.addService(grpcServiceDefinition(PredictionService), {
      predict: this.unary((req, h) => predict(ctx.path, req, ctx, onResolved(h), h.trace), {log: 'grpc'}),
      getModelMetadata: this.unary((req, h) => getModelMetadata(ctx.path, req, onResolved(h))),
    } satisfies UntypedServiceImplementation)
    this.server.addService(grpcServiceDefinition(ModelService), {
      getModelStatus: this.unary((req) => getModelStatus(ctx.path, req)),
    })
    // KServe v2 gRPC on the same port; its health checks need no API key (as GET /healthz).
    this.server.addService(grpcServiceDefinition(GRPCInferenceService), {
      serverLive: this.unary(() => ({live: true}), {public: true}),
      serverReady: this.unary(() => ({ready: ctx.path.ready()}), {public: true}),
      modelReady: this.unary((req) => ({ready: modelReady(ctx.path, req)})),
      serverMetadata: this.unary(() => serverMetadata()),
      modelMetadata: this.unary((req, h) => modelMetadata(ctx.path, req, onResolved(h))),
      modelInfer: this.unary((req, h) => modelInfer(ctx.path, req, onResolved(h), h.trace), {log: 'v2-grpc'}),
    })
  }

  /** Wraps a method: drain and auth checks, metrics, errors → gRPC status. */
  private unary<Req, Res>(fn: Handler<Req, Res>, opts: {public?: boolean; log?: Protocol} = {}) {
    return async (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): Promise<void> => {
      const t0 = performance.now()
      this.inflight++
      const h: Handled = {}
      let http = 200
      let answer: Res | undefined
      const alog = opts.log ? this.ctx.accessLog : undefined
      let requestId: string | undefined
      if (alog) {
        const given = call.metadata.get('x-request-id')[0]
        requestId = alog.requestId(typeof given === 'string' ? given : undefined)
        const md = new Metadata()
        md.set('x-request-id', requestId)
        call.sendMetadata(md)
        if (alog.take()) h.trace = {}
      }
      try {
        if (this.draining) throw new TfsoptError('E_UNAVAILABLE', 'the server is shutting down; retry against another instance')
        if (!opts.public && !this.ctx.path.authorized(bearer(call.metadata)))
          throw new TfsoptError(
            'E_UNAUTHORIZED',
            'missing or wrong API key: send "authorization: Bearer <key>" metadata (the key given with --api-key or TFSOPT_API_KEY)',
          )
        const model = modelOf(call.request)
        if (model && this.ctx.path.has(model)) h.vm = this.ctx.metrics.forVersion(model, '')
        answer = await fn(call.request, h)
        callback(null, answer)
      } catch (err) {
        const e = grpcError(err)
        http = e.httpStatus
        if (http === 500 && !(err instanceof TfsoptError)) this.ctx.log(`internal error on gRPC ${call.getPath()}: ${(err as Error).stack ?? err}`)
        callback(e)
      } finally {
        if (h.vm) {
          h.vm.request(http)
          h.vm.requestLatency.observe((performance.now() - t0) / 1000)
        }
        this.inflight--
        if (this.inflight === 0 && this.idleWaiters.length) for (const w of this.idleWaiters.splice(0)) w()
        if (alog && h.trace) {
          const latencyMs = performance.now() - t0
          const trace = h.trace
          const version = h.servable?.version
          const model = h.servable?.model ?? modelOf(call.request)
          // grpc-js encodes the answer after callback(): read its size once that has happened.
          setImmediate(() =>
            alog.write({
              requestId: requestId!,
              protocol: opts.log!,
              model,
              version,
              status: http,
              latencyMs,
              bytesIn: messageBytes.get(call.request as object) ?? 0,
              bytesOut: answer === undefined ? 0 : (messageBytes.get(answer as object) ?? 0),
              trace,
            }),
          )
        }
      }
    }
  }

  listen(port: number, host: string): Promise<number> {
    const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`
    return new Promise((resolve, reject) =>
      this.server.bindAsync(addr, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    )
  }

  /** Refuses new calls (UNAVAILABLE), lets in-flight ones finish (up to drainMs); returns the time left. */
  drain(drainMs: number): Promise<number> {
    this.draining = true
    return waitIdle(this.inflight, this.idleWaiters, drainMs)
  }

  closeAll(): void {
    this.server.forceShutdown()
  }
}

/** The model a request names (TF Serving's model_spec.name, v2's model_name or name), for the metrics. */
function modelOf(req: unknown): string | undefined {
  const r = req as {modelSpec?: {name?: string}; modelName?: string; name?: string}
  return r.modelSpec?.name ?? r.modelName ?? r.name
}

const bearer = (md: Metadata): string | undefined => {
  const v = md.get('authorization')[0]
  return typeof v === 'string' ? v : undefined
}
