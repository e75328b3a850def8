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
  } finally {
    await browser.close()
  }
})
