/**
 * One vocabulary of tensor element types across ONNX, TF.js and TF Serving's JSON, so that commands,
 * runtimes and the server never translate ad hoc.
 */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string'
  | 'complex64'
  | 'complex128'
  // IR 9+ low-precision types: ONNX can store and convert them; tfsopt names them but computes on none.
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'float4e2m1'
  | 'float8e8m0'
  | 'uint2'
  | 'int2'
  | 'unknown'

/** ONNX TensorProto.DataType enum values. */
export const ONNX_DTYPE: Record<number, DType> = {
  0: 'unknown',
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
  24: 'float8e8m0',
  25: 'uint2',
  26: 'int2',
}

export const ONNX_DTYPE_CODE: Partial<Record<DType, number>> = Object.fromEntries(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, Number(k)])) as Partial<
  Record<DType, number>
>

/** Bytes per element; 0 for variable-size (string); fractions for sub-byte types, packed two (4-bit) or four (2-bit) to a byte. */
export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
  string: 0,
  complex64: 8,
  complex128: 16,
  float8e4m3fn: 1,
  float8e4m3fnuz: 1,
  float8e5m2: 1,
  float8e5m2fnuz: 1,
  uint4: 0.5,
  int4: 0.5,
  float4e2m1: 0.5,
  float8e8m0: 1,
  uint2: 0.25,
  int2: 0.25,
  unknown: 0,
}

/** TF Serving's DT_* names, used in metadata responses. */
export const TF_DTYPE_NAME: Record<DType, string> = {
  float32: 'DT_FLOAT',
  float64: 'DT_DOUBLE',
  float16: 'DT_HALF',
  bfloat16: 'DT_BFLOAT16',
  int8: 'DT_INT8',
  uint8: 'DT_UINT8',
  int16: 'DT_INT16',
  uint16: 'DT_UINT16',
  int32: 'DT_INT32',
  uint32: 'DT_UINT32',
  int64: 'DT_INT64',
  uint64: 'DT_UINT64',
  bool: 'DT_BOOL',
  string: 'DT_STRING',
  complex64: 'DT_COMPLEX64',
  complex128: 'DT_COMPLEX128',
  // Names from TensorFlow's types.proto (DT_FLOAT8_*, DT_INT4/2, DT_UINT4/2); float4e2m1 and float8e8m0 have none.
  float8e4m3fn: 'DT_FLOAT8_E4M3FN',
  float8e4m3fnuz: 'DT_FLOAT8_E4M3FNUZ',
  float8e5m2: 'DT_FLOAT8_E5M2',
  float8e5m2fnuz: 'DT_FLOAT8_E5M2FNUZ',
  uint4: 'DT_UINT4',
  int4: 'DT_INT4',
  float4e2m1: 'DT_INVALID',
  float8e8m0: 'DT_INVALID',
  uint2: 'DT_UINT2',
  int2: 'DT_INT2',
  unknown: 'DT_INVALID',
}

/** A dimension is a size, a symbolic name (kept as written in the model), or unknown (null). */
export type Dim = number | string | null

export interface TensorInfo {
  name: string
  dtype: DType
  shape: Dim[] | null
}

/** -1 for every dimension that is not a fixed size, as TF Serving's metadata shows it. */
export const shapeForServing = (shape: Dim[] | null): number[] | null => (shape === null ? null : shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)))

export const formatShape = (shape: Dim[] | null): string => (shape === null ? '?' : `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`)

/**
 * The number of samples a model with a fixed first input dimension takes per run (e.g. 1 for an
 * input of [1,2,3,4]); undefined when the batch is free. Every run, probe and latency figure must use it.
 */
export const fixedBatch = (inputs: TensorInfo[]): number | undefined => {
  const d = inputs.map((i) => i.shape?.[0]).find((d) => typeof d === 'number' && d > 0)
  return typeof d === 'number' ? d : undefined
}

/** Whether the first dimension can take any batch size. */
export const hasDynamicBatch = (shape: Dim[] | null): boolean => shape !== null && shape.length > 0 && typeof shape[0] !== 'number'
