/**
 * Writes calibration inputs for the optimiser figures from the MNIST *train* split (disjoint from
 * fixtures/data/mnist-eval.json): JSON lines, one 784-value instance per line, pixels as x/255.
 * Usage: npx tsx benchmarks/optimize-calib-data.ts [out=/tmp/mnist-train-calib.jsonl] [count=512]
 */
import {writeFileSync} from 'node:fs'
import {loadMnistSplits, PIXELS, toFloat} from '../scripts/fixtures/mnist-data.js'

const out = process.argv[2] ?? '/tmp/mnist-train-calib.jsonl'
const count = Number(process.argv[3] ?? 512)
const {train} = loadMnistSplits()
const x = toFloat(train.pixels.subarray(0, count * PIXELS))
const lines: string[] = []
for (let i = 0; i < Math.min(count, train.count); i++)
  lines.push(JSON.stringify(Array.from(x.subarray(i * PIXELS, (i + 1) * PIXELS), (v) => Math.round(v * 1e6) / 1e6)))
writeFileSync(out, `${lines.join('\n')}\n`)
console.error(`wrote ${lines.length} MNIST train digits to ${out}`)
