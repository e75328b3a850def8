/** The stderr table of the `tfsopt queue` commands. */
import Table from 'cli-table3'
import {fmt} from '../queueing/validate.js'

/** A plain table (no ANSI colours: they garble CI logs and pipes). */
export function renderQueueTable(head: string[], rows: Array<Array<string | number | null>>): string {
  const t = new Table({head, style: {head: [], border: []}})
  for (const r of rows) t.push(r.map((c) => (c === null ? '—' : typeof c === 'number' ? fmt(c, 5) : c)))
  return t.toString()
}
