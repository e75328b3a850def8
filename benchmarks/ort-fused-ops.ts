/**
 * What onnxruntime actually runs: saves each model as the CPU provider optimises it (level `all`) and
 * prints its op histogram, so one can see how many Convs became QLinearConv and how many stayed float.
 * Usage: npx tsx benchmarks/ort-fused-ops.ts MODEL.onnx [...]   (writes MODEL.ort-all.onnx beside each)
 */
import {readModel} from '../src/models/onnx/proto.js'
import {ort} from '../src/runtime/onnx-session.js'

for (const path of process.argv.slice(2)) {
  const optimized = `${path.replace(/\.onnx$/, '')}.ort-all.onnx`
  const s = await ort().InferenceSession.create(path, {graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3})
  await s.release()
  const ops = new Map<string, number>()
  for (const n of readModel(optimized).graph!.node ?? []) ops.set(n.opType!, (ops.get(n.opType!) ?? 0) + 1)
  console.log(
    `${path}: ${[...ops]
      .sort((a, b) => b[1] - a[1])
      .map(([op, k]) => `${op} ×${k}`)
      .join(', ')}`,
  )
}
