/**
 * Writes a small image-like eval set for the PP-OCR detector (which has free H/W dimensions, so tfsopt
 * cannot synthesise inputs for it): N 3×H×W images of dark text-like bars on a light background,
 * normalised as PP-OCR expects ((x/255 − 0.5)/0.5). Usage: tsx benchmarks/optimize-ppocr-data.ts OUT [N] [H] [W]
 */
import {writeFileSync} from 'node:fs'

const [out = '/tmp/ppocr-calib.json', nArg = '8', hArg = '96', wArg = '96'] = process.argv.slice(2)
const n = Number(nArg),
  h = Number(hArg),
  w = Number(wArg)
let s = 7
const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296
const data = new Float32Array(n * 3 * h * w)
for (let i = 0; i < n; i++) {
  const img = new Float32Array(h * w).fill(230)
  for (let b = 0; b < 4; b++) {
    const y0 = Math.floor(rnd() * (h - 12)),
      x0 = Math.floor(rnd() * (w / 2)),
      len = Math.floor(w / 4 + rnd() * (w / 3)),
      th = 4 + Math.floor(rnd() * 6)
    for (let y = y0; y < y0 + th; y++) for (let x = x0; x < Math.min(w, x0 + len); x++) if ((x >> 2) % 3 !== 0) img[y * w + x] = 30 + rnd() * 40
  }
  for (let c = 0; c < 3; c++) for (let k = 0; k < h * w; k++) data[(i * 3 + c) * h * w + k] = (img[k]! / 255 - 0.5) / 0.5
}
writeFileSync(
  out,
  JSON.stringify({
    format: 'tfsopt-evalset',
    version: 1,
    count: n,
    inputs: {'*': {dtype: 'float32', shape: [n, 3, h, w], encoding: 'base64', data: Buffer.from(data.buffer).toString('base64')}},
  }),
)
console.error(`wrote ${out}: ${n} images ${h}×${w}`)
