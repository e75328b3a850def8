/** The human view of an InspectReport (tables for stderr); --json prints the report itself. */
import Table from 'cli-table3'
import {formatShape} from '../models/dtypes.js'
import type {InspectReport} from './types.js'
import {describePlacement} from '../runtime/placement.js'

export const humanBytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 ** 2).toFixed(2)} MiB`)
export const humanCount = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(3)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} K` : String(n)

export function renderInspect(r: InspectReport): string {
  const lines: string[] = []
  const head = new Table({style: {head: [], border: [], compact: true}})
  head.push(
    {Model: r.path},
    ...(r.encrypted
      ? [{Encrypted: `${r.encrypted.container} (AES-256-GCM, ${humanBytes(r.encrypted.containerBytes)}, key id ${r.encrypted.keyId}), decrypted in memory`}]
      : []),
    {Format: `${r.kind}${r.producer ? ` (${r.producer})` : ''}`},
    {'File size': `${humanBytes(r.fileBytes)}${r.files.length > 1 ? ` in ${r.files.length} files` : ''}`},
    {Runtime: `${r.runtime.engine} on ${r.runtime.device}: ${r.runtime.note}`},
    ...(r.runtime.placement ? [{Placement: describePlacement(r.runtime.placement)}] : []),
    {
      Opset: r.opset
        ? Object.entries(r.opset)
            .map(([d, v]) => `${d || 'ai.onnx'} ${v}`)
            .join(', ')
        : 'n/a',
    },
    {Parameters: `${r.parameters.toLocaleString('en-US')} (${humanCount(r.parameters)})`},
    {
      'Weight bytes':
        Object.entries(r.weightBytes)
          .map(([d, b]) => `${d} ${humanBytes(b)}`)
          .join(', ') || 'none',
    },
    {Nodes: String(r.nodeCount)},
  )
  lines.push(head.toString())
  const io = new Table({head: ['', 'name', 'dtype', 'shape'], style: {head: [], border: [], compact: true}})
  for (const i of r.inputs) io.push(['input', i.name, i.dtype, formatShape(i.shape)])
  for (const o of r.outputs) io.push(['output', o.name, o.dtype, formatShape(o.shape)])
  lines.push(io.toString())
  lines.push(
    `Ops: ${Object.entries(r.ops)
      .map(([op, n]) => `${op} ×${n}`)
      .join(', ')}`,
  )
  if (r.compute) {
    const c = r.compute
    const t = new Table({head: ['counted op', 'nodes', 'MACs/sample'], style: {head: [], border: [], compact: true}})
    for (const [op, e] of Object.entries(c.counted)) t.push([op, e.count, humanCount(e.macs)])
    t.push(['total', '', `${humanCount(c.macs)} MACs = ${humanCount(c.flops)} FLOPs`])
    lines.push(t.toString())
    lines.push(
      `Shapes: ${Object.entries(c.inputShapes)
        .map(([k, v]) => `${k} [${v.join(',')}]`)
        .join(', ')} — ${c.method}`,
    )
    if (c.notCounted.length) lines.push(`Not counted: ${c.notCounted.join(', ')}`)
    for (const n of c.notes) lines.push(`Note: ${n}`)
  } else lines.push(`FLOPs: not estimated — ${r.computeError ?? 'unknown reason'}`)
  return lines.join('\n')
}
