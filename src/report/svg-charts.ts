/**
 * Inline SVG charts, generated here so the HTML report needs no script, font or network to render.
 * Each function returns a self-contained <svg> element string.
 */
export interface Series {
  name: string
  points: Array<[number, number]>
  dashed?: boolean
  markers?: boolean
  /** Join the points in the given order (e.g. along the load) instead of sorting them by x. */
  ordered?: boolean
}

const W = 640
const H = 360
const M = {l: 64, r: 160, t: 34, b: 48}
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22']

export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo]
  const raw = (hi - lo) / n
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)))
  return out
}

/** Rough width of a label at font-size 11 (sans-serif digits are about 6.2 px wide). */
const labelWidth = (s: string) => 6.5 * s.length

/**
 * Log-scale x ticks: at the measured levels (points of solid series; fitted curves add none), left to
 * right, skipping any whose label would come within 4 px of the previous one's.
 */
function logTicks(series: Series[], px: (x: number) => number): number[] {
  const measured = series.filter((s) => !s.dashed).flatMap((s) => s.points.map(([x]) => x))
  const xs = [...new Set((measured.length ? measured : series.flatMap((s) => s.points.map(([x]) => x))).filter((x) => x > 0 && Number.isFinite(x)))]
  const out: number[] = []
  for (const v of xs.sort((a, b) => a - b)) {
    const prev = out.at(-1)
    if (prev === undefined || px(v) - px(prev) >= (labelWidth(label(prev)) + labelWidth(label(v))) / 2 + 4) out.push(v)
  }
  return out
}

const label = (v: number) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(v % 1000 ? 1 : 0)}k` : Number(v.toPrecision(3)).toString())

export function lineChart(o: {title: string; xLabel: string; yLabel: string; series: Series[]; logX?: boolean}): string {
  const all = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0))
  if (!all.length)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60" role="img"><text x="10" y="30">${escapeXml(o.title)}: no data</text></svg>`
  const tx = (x: number) => (o.logX ? Math.log2(x) : x)
  const xs = all.map(([x]) => tx(x))
  const ys = all.map(([, y]) => y)
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1]
  const y1 = Math.max(...ys) * 1.08 || 1
  const px = (x: number) => M.l + ((tx(x) - x0) / (x1 - x0)) * (W - M.l - M.r)
  const py = (y: number) => H - M.b - (y / y1) * (H - M.t - M.b)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(o.title)}" font-family="sans-serif" font-size="11">`,
  ]
  parts.push(`<text x="${W / 2 - M.r / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`)
  // Axes and grid.
  for (const v of ticks(0, y1))
    parts.push(
      `<line x1="${M.l}" x2="${W - M.r}" y1="${py(v)}" y2="${py(v)}" stroke="#eee"/><text x="${M.l - 6}" y="${py(v) + 4}" text-anchor="end">${label(v)}</text>`,
    )
  const xt = o.logX ? logTicks(o.series, px) : ticks(x0, x1)
  for (const v of xt)
    parts.push(
      `<line x1="${px(v)}" x2="${px(v)}" y1="${H - M.b}" y2="${H - M.b + 4}" stroke="#333"/><text x="${px(v)}" y="${H - M.b + 16}" text-anchor="middle">${label(v)}</text>`,
    )
  parts.push(
    `<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#333"/><line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#333"/>`,
  )
  parts.push(`<text x="${(M.l + W - M.r) / 2}" y="${H - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`)
  parts.push(`<text transform="translate(16 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`)
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]
    const finite = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0))
    const pts = s.ordered ? finite : finite.sort((a, b) => a[0] - b[0])
    if (!pts.length) return
    parts.push(
      `<polyline class="series" fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
    )
    if (s.markers !== false && !s.dashed)
      for (const [x, y] of pts)
        parts.push(
          `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"><title>${escapeXml(`${s.name}: ${label(x)}, ${label(y)}`)}</title></circle>`,
        )
    const ly = M.t + 14 * i
    parts.push(
      `<line x1="${W - M.r + 10}" x2="${W - M.r + 28}" y1="${ly}" y2="${ly}" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/><text x="${W - M.r + 32}" y="${ly + 4}">${escapeXml(s.name.slice(0, 22))}</text>`,
    )
  })
  parts.push('</svg>')
  return parts.join('')
}

/** Heat map of a value over two axes (e.g. server configuration × load); darker = higher. */
export function heatMap(o: {title: string; rows: string[]; cols: string[]; value: (r: string, c: string) => number | undefined; unit: string}): string {
  const cw = Math.max(56, Math.min(90, 520 / Math.max(1, o.cols.length)))
  const ch = 26
  const left = 150
  const top = 44
  const w = left + cw * o.cols.length + 20
  const h = top + ch * o.rows.length + 20
  const vals = o.rows.flatMap((r) => o.cols.map((c) => o.value(r, c))).filter((v): v is number => v !== undefined && Number.isFinite(v))
  const lo = Math.min(...vals)
  const hi = Math.max(...vals)
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeXml(o.title)}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${escapeXml(o.title)} (${escapeXml(o.unit)})</text>`,
  ]
  o.cols.forEach((c, j) => parts.push(`<text x="${left + cw * j + cw / 2}" y="${top - 6}" text-anchor="middle">${escapeXml(c)}</text>`))
  o.rows.forEach((r, i) => {
    parts.push(`<text x="${left - 6}" y="${top + ch * i + ch / 2 + 4}" text-anchor="end">${escapeXml(r.slice(0, 24))}</text>`)
    o.cols.forEach((c, j) => {
      const v = o.value(r, c)
      const f = v === undefined || !Number.isFinite(v) ? -1 : hi > lo ? (v - lo) / (hi - lo) : 1
      const fill = f < 0 ? '#f4f4f4' : `hsl(210, 70%, ${Math.round(92 - f * 55)}%)`
      parts.push(
        `<rect class="cell" x="${left + cw * j}" y="${top + ch * i}" width="${cw - 2}" height="${ch - 2}" fill="${fill}"><title>${escapeXml(`${r}, ${c}: ${v ?? 'n/a'}`)}</title></rect>`,
      )
      parts.push(
        `<text x="${left + cw * j + cw / 2}" y="${top + ch * i + ch / 2 + 4}" text-anchor="middle" fill="${f > 0.6 ? '#fff' : '#000'}">${v === undefined || !Number.isFinite(v) ? '–' : label(v)}</text>`,
      )
    })
  })
  parts.push('</svg>')
  return parts.join('')
}
