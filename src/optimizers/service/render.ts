/** Human tables (stderr) for optimiser reports; the JSON form is the report object itself. */
import Table from 'cli-table3'

/** No ANSI colours: tables go to stderr, where CI logs and pipes would show escape codes. */
const PLAIN = {head: [], border: []}
import type {OptimizeReport} from './quantize.js'
import type {AutoReport} from './auto.js'

const kb = (b: number) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`)
const pct = (x: number) => `${(x * 100).toFixed(2)}%`
const ms = (x: number) => (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`)

export function renderReport(r: OptimizeReport & {layers?: {name: string; sparsity: number; shape: string}[]; verdict?: string}): string {
  const lines: string[] = []
  const t = new Table({head: ['', 'before', 'after', 'after/before'], style: PLAIN})
  t.push(['size', kb(r.size.before.bytes), kb(r.size.after.bytes), r.size.ratio.toFixed(3)])
  t.push(['size (gzip)', kb(r.size.before.gzipBytes), kb(r.size.after.gzipBytes), r.size.gzipRatio.toFixed(3)])
  for (const l of r.measurement.latency)
    t.push([
      `latency batch ${l.batch} (median, ${r.measurement.threads} thread${r.measurement.threads > 1 ? 's' : ''}${r.measurement.device && r.measurement.device !== 'cpu' ? `, ${r.measurement.device}` : ''})`,
      ms(l.beforeMs),
      ms(l.afterMs),
      l.ratio.toFixed(3),
    ])
  const a = r.measurement.accuracy
  if (a) t.push([`top-1 accuracy (${a.samples} labelled)`, pct(a.before), pct(a.after), `${(a.drop * 100).toFixed(2)} points lost`])
  lines.push(`${r.command} ${r.format} ${r.mode}: ${r.input} → ${r.output}`, t.toString())
  const f = r.measurement.fidelity
  lines.push(
    `fidelity vs original on ${f.samples} samples of ${f.data} (output ${f.output}): max abs err ${f.maxAbsError.toPrecision(3)}, mean rel err ${f.meanRelativeError.toPrecision(3)}, cosine ${f.cosineSimilarity.toFixed(6)}${f.top1Agreement === null ? '' : `, top-1 agreement ${pct(f.top1Agreement)}`}`,
  )
  lines.push(`parameters: ${r.parameters.total.toLocaleString('en')} total, ${r.parameters.changed.toLocaleString('en')} changed`)
  if (r.layers?.length) {
    const lt = new Table({head: ['layer', 'shape', 'sparsity'], style: PLAIN})
    for (const l of r.layers) lt.push([l.name, l.shape, pct(l.sparsity)])
    lines.push(lt.toString())
  }
  const ct = new Table({head: ['changed', 'op', 'how'], style: PLAIN})
  for (const c of r.changed.slice(0, 20)) ct.push([c.node, c.opType, c.how])
  lines.push(ct.toString() + (r.changed.length > 20 ? `\n… and ${r.changed.length - 20} more (see --json)` : ''))
  if (r.skipped.length) {
    const st = new Table({head: ['skipped', 'op', 'why'], style: PLAIN})
    for (const s of r.skipped.slice(0, 20)) st.push([s.node, s.opType, s.reason])
    lines.push(st.toString() + (r.skipped.length > 20 ? `\n… and ${r.skipped.length - 20} more (see --json)` : ''))
  }
  if (r.auto) lines.push(renderAuto(r.auto))
  for (const n of r.notes) lines.push(`note: ${n}`)
  for (const w of r.warnings ?? []) lines.push(`warning: ${w}`)
  if (r.verdict) lines.push(r.verdict)
  const aa = r.accuracyAware
  if (aa)
    lines.push(
      aa.met
        ? `accuracy budget ${aa.budget} points held${aa.keptFloat.length ? ` with ${aa.keptFloat.length} node(s) back in float32: ${aa.keptFloat.join(', ')}` : ' with everything quantised'}`
        : `accuracy budget ${aa.budget} points NOT met within ${aa.trials.length - 1} fallback trial(s); the best result was written: ${aa.keptFloat.length ? `${aa.keptFloat.length} node(s) in float32 (${aa.keptFloat.join(', ')})` : 'everything quantised'}, accuracy drop ${((aa.trials.find((t) => t.keptFloat.join('\n') === aa.keptFloat.join('\n')) ?? aa.trials[0]!).drop * 100).toFixed(2)} points`,
    )
  return lines.join('\n')
}

/** --mode auto: each candidate's node groups timed alone (latency ratio per batch), and what was kept. */
export function renderAuto(a: AutoReport): string {
  const t = new Table({head: ['candidate', 'node (group)', ...a.batches.map((b) => `alone: batch ${b}`), 'cosine', 'choice'], style: PLAIN})
  for (const c of a.candidates) {
    if (!c.nodes.length) t.push([c.name, '—', ...a.batches.map(() => ''), '', c.reason ?? ''])
    for (const n of c.nodes) {
      const back = c.backedOff.find((b) => b.node === n.node)
      t.push([
        c.name,
        n.node,
        ...n.ratios.map((x) => `×${x.toFixed(2)}`),
        n.cosine.toFixed(4),
        n.kept ? 'quantise' : back ? `float32 (backed off: ${back.why})` : 'float32',
      ])
    }
    if (c.ratios)
      t.push([c.name, 'combined', ...c.ratios.map((x) => `×${x.toFixed(2)}`), c.cosine?.toFixed(4) ?? '', c.admissible ? 'admissible' : (c.reason ?? '')])
  }
  return `auto (objective ${a.objective}, ${a.threads} thread(s), ${a.seconds.toFixed(1)} s): chose ${a.chosen}\n${t.toString()}`
}
