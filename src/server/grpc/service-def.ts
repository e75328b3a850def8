/**
 * A protobuf-es service description → grpc-js's ServiceDefinition: method paths
 * ("/tensorflow.serving.PredictionService/Predict") and (de)serialisers are the generated codecs'.
 */
import type {MethodDefinition, ServiceDefinition} from '@grpc/grpc-js'
import {create, fromBinary, isMessage, toBinary, type DescMessage, type DescService, type MessageShape} from '@bufbuild/protobuf'

/**
 * Wire size of each request and response message (set when it is decoded or encoded), for the access
 * log's bytes in/out. Weak: an entry goes with its message.
 */
export const messageBytes = new WeakMap<object, number>()

function method<I extends DescMessage, O extends DescMessage>(
  service: DescService,
  name: string,
  input: I,
  output: O,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path: `/${service.typeName}/${name}`,
    requestStream: false,
    responseStream: false,
    // A message, or a plain object of its fields (a handler may answer {ready: true}).
    requestSerialize: (m) => Buffer.from(toBinary(input, isMessage(m, input) ? m : create(input, m as never))),
    requestDeserialize: (b) => {
      const m = fromBinary(input, b)
      messageBytes.set(m, b.length)
      return m
    },
    responseSerialize: (m) => {
      const b = Buffer.from(toBinary(output, isMessage(m, output) ? m : create(output, m as never)))
      if (typeof m === 'object' && m !== null) messageBytes.set(m, b.length)
      return b
    },
    responseDeserialize: (b) => fromBinary(output, b),
  }
}

/** Unary methods only (all that TF Serving's PredictionService and ModelService have). */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  return Object.fromEntries(
    service.methods.map((m) => {
      if (m.methodKind !== 'unary') throw new Error(`${service.typeName}.${m.name} is ${m.methodKind}; only unary methods are served`)
      return [m.localName, method(service, m.name, m.input, m.output)]
    }),
  )
}
