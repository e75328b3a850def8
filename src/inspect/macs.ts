/**
 * Multiply-accumulate counts from tensor shapes, shared by the ONNX and TF.js paths. Convention: one
 * MAC per multiply-add in the op's inner product; bias adds, activations and pooling are not counted.
 */
export const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1)

/** Conv (any group count, so depthwise too): every output element needs (Cin/group)·kh·kw MACs. */
export const convMacs = (outShape: number[], cinPerGroup: number, kernel: number[]) => prod(outShape) * cinPerGroup * prod(kernel)

/** ConvTranspose: every input element is scattered through (Cout/group)·kh·kw weights. */
export const convTransposeMacs = (inShape: number[], coutPerGroup: number, kernel: number[]) => prod(inShape) * coutPerGroup * prod(kernel)

/** MatMul / Dense: every output element is a K-long dot product. */
export const matmulMacs = (outShape: number[], k: number) => prod(outShape) * k

/** Sum of per-op figures into a ComputeEstimate's `counted` map. */
export function addCount(m: Record<string, {count: number; macs: number}>, op: string, macs: number): void {
  const e = (m[op] ??= {count: 0, macs: 0})
  e.count++
  e.macs += macs
}
