/** tfsopt's errors → gRPC status codes, the way TF Serving uses them. */
import {status as Code, Metadata, type ServiceError} from '@grpc/grpc-js'
import {TfsoptError, errorMessage} from '../../errors.js'

/** By the HTTP status the REST API would answer, so both protocols classify an error alike. */
const BY_HTTP: Record<number, Code> = {
  400: Code.INVALID_ARGUMENT,
  401: Code.UNAUTHENTICATED,
  404: Code.NOT_FOUND,
  405: Code.UNIMPLEMENTED,
  408: Code.DEADLINE_EXCEEDED,
  409: Code.ALREADY_EXISTS,
  413: Code.RESOURCE_EXHAUSTED,
  503: Code.UNAVAILABLE,
  507: Code.RESOURCE_EXHAUSTED,
}

/** The gRPC status for an error, and the HTTP status REST would have answered (for the shared metrics). */
export function grpcError(err: unknown): ServiceError & {httpStatus: number} {
  const http = err instanceof TfsoptError ? err.status : 500
  const code = BY_HTTP[http] ?? Code.INTERNAL
  const message = err instanceof TfsoptError ? err.message : `internal error: ${errorMessage(err)}`
  return Object.assign(new Error(message), {code, details: message, metadata: new Metadata(), httpStatus: http})
}
