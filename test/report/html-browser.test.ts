/**
 * The HTML report renders in a real browser (Debian's chromium via playwright-core), offline: every
 * chart is an SVG with drawn content, the table has one row per point, and no request leaves the page.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {renderHtml} from '../../src/report/html.ts'
import {sampleRun} from './sample-run.ts'

const CHROMIUM = '/usr/bin/chromium'

test('the HTML report renders in headless Chromium with its charts', {
  skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install -y chromium)`,
  timeout: 60_000,
}, async () => {
  const {chromium} = await import('playwright-core')
  const file = join(mkdtempSync(join(tmpdir(), 'tfsopt-html-')), 'report.html')
  const run = sampleRun()
  writeFileSync(file, renderHtml(run))
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  try {
    const page = await browser.newPage()
    const external: string[] = []
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) external.push(r.url())
    })
    await page.goto(pathToFileURL(file).href)
    const info = await page.evaluate(() => ({
      svgs: [...document.querySelectorAll('svg')].map((s) => ({
        label: s.getAttribute('aria-label'),
        w: s.getBoundingClientRect().width,
        h: s.getBoundingClientRect().height,
        lines: s.querySelectorAll('polyline.series').length,
        cells: s.querySelectorAll('rect.cell').length,
        // x-axis tick labels sit 16 px below the plot (y = 360 − 48 + 16): their drawn extents.
        xTicks: [...s.querySelectorAll('text')]
          .filter((t) => t.getAttribute('y') === '328')
          .map((t) => {
            const b = t.getBBox()
            return {text: t.textContent, x0: b.x, x1: b.x + b.width}
          }),
        solid: [...s.querySelectorAll('polyline.series:not([stroke-dasharray])')].map((l) =>
          (l.getAttribute('points') ?? '').split(' ').map((xy) => xy.split(',').map(Number) as [number, number]),
        ),
      })),
      rows: document.querySelectorAll('tbody tr').length,
      title: document.title,
    }))
    assert.deepEqual(external, [])
    assert.equal(info.rows, run.points.length)
    assert.match(info.title, /tfsopt bench/)
    const byLabel = (l: string) => info.svgs.find((s) => s.label?.startsWith(l))
    for (const l of ['Throughput vs concurrency', 'Latency vs throughput', 'Latency percentiles']) {
      const s = byLabel(l)
      assert.ok(s, `chart ${l}`)
      assert.ok(s.w > 100 && s.h > 100, `${l} laid out: ${s.w}×${s.h}`)
      assert.ok(s.lines > 0, `${l} draws series`)
    }
    assert.ok(byLabel('Throughput vs concurrency')!.lines >= 3, 'measured series plus the USL curve')
    assert.equal(byLabel('Throughput by configuration and load')?.cells, 12, 'heat map 2 × 6')
    // The concurrency axis is labelled at the measured levels only, and no two labels overlap.
    const ticks = byLabel('Throughput vs concurrency')!.xTicks
    assert.deepEqual(
      ticks.map((t) => t.text),
      ['1', '2', '4', '8', '16', '32'],
    )
    for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i]!.x0 > ticks[i - 1]!.x1, `tick labels ${ticks[i - 1]!.text} and ${ticks[i]!.text} overlap`)
    // Latency vs throughput: each measured line is joined along increasing load, so in this sample
    // (latency rises with every client, throughput falls past 16) its latency never steps back down.
    const lines = byLabel('Latency vs throughput')!.solid
    assert.equal(lines.length, 4, 'mean and p99 of two server settings')
    for (const line of lines) for (let i = 1; i < line.length; i++) assert.ok(line[i]![1] <= line[i - 1]![1], `zig-zag at ${JSON.stringify(line)}`)
  } finally {
    await browser.close()
  }
})
