/**
 * The model's input signature as a TF-Serving-compatible metadata endpoint describes it
 * (GET /v1/models/{m}/metadata → signature_def with DT_* dtypes and tensor_shape dims, -1 = unknown).
 * Used to generate request bodies when no --data is given, and to reshape data samples to the model.
 */
export interface SignatureInput {
  name: string
  /** TF dtype name, e.g. DT_FLOAT. */
  dtype: string
  /** Full dims including the batch dimension; -1 = unknown. */
  dims: number[]
}

/** Tolerant parse of the TF Serving metadata answer; returns [] when no signature is found. */
export function parseSignature(meta: unknown, signatureName = 'serving_default'): SignatureInput[] {
  const m = meta as {metadata?: {signature_def?: {signature_def?: Record<string, {inputs?: Record<string, unknown>}>}}}
  const defs = m?.metadata?.signature_def?.signature_def
  if (!defs || typeof defs !== 'object') return []
  const sig = defs[signatureName] ?? Object.values(defs)[0]
  if (!sig?.inputs) return []
  return Object.entries(sig.inputs).map(([name, raw]) => {
    const info = raw as {dtype?: string; tensor_shape?: {dim?: Array<{size?: string | number}>; unknown_rank?: boolean}}
    const dims = (info.tensor_shape?.dim ?? []).map((d) => Number(d.size ?? -1))
    return {name, dtype: info.dtype ?? 'DT_FLOAT', dims}
  })
}
