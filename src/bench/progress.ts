/**
 * A progress line with ETA on stderr while sweeping, subscribed to the engine's events. When stderr is
 * not a TTY (CI logs, pipes) one plain line per server start and per finished point instead, no bar;
 * nothing with --json (the caller does not attach it).
 */
import type {BenchEngine, EngineEvents} from './run.js'

export function attachProgress(engine: BenchEngine, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return attachPlainProgress(engine, stream)
  let total = 0
  let perPointS = 1
  let done = 0
  let current = ''
  const t0 = Date.now()
  const draw = () => {
    const width = 24
    const frac = total ? Math.min(1, done / total) : 0
    const elapsed = (Date.now() - t0) / 1000
    // ETA from the observed pace once a point is done, from the plan before that.
    const eta = done ? (elapsed / done) * Math.max(0, total - done) : total * perPointS
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░')
    stream.write(`\r\x1b[2K${bar} ${done}/${total} points  ETA ${Math.round(eta)}s  ${current}`.slice(0, (stream.columns ?? 120) - 1))
  }
  engine.on('plan', (p: EngineEvents['plan']) => {
    total = p.points
    perPointS = p.perPointS
    draw()
  })
  engine.on('point-start', (p: EngineEvents['point-start']) => {
    current = p.id
    draw()
  })
  engine.on('window', () => draw())
  engine.on('point', (p: EngineEvents['point']) => {
    done = p.index
    draw()
  })
  engine.on('warning', (w: string) => {
    stream.write(`\r\x1b[2Kwarning: ${w}\n`)
    draw()
  })
  return () => stream.write('\r\x1b[2K')
}

/**
 * Non-TTY progress: one line per server start (with its pid, so a log shows which process served what)
 * and per finished point. Warnings are printed by the command itself in this mode.
 */
function attachPlainProgress(engine: BenchEngine, stream: NodeJS.WritableStream): () => void {
  let total = 0
  engine.on('plan', (p: EngineEvents['plan']) => {
    total = p.points
  })
  engine.on('server', (e: EngineEvents['server']) => {
    if (e.phase === 'ready') stream.write(`server ready: ${e.model} ${JSON.stringify(e.config)} at ${e.url} (pid ${e.pid})\n`)
  })
  engine.on('point-start', (e: EngineEvents['point-start']) => {
    stream.write(`measuring ${e.id}${e.repeat ? ` (repeat ${e.repeat + 1})` : ''}\n`)
  })
  engine.on('point', ({point: p, index}: EngineEvents['point']) => {
    const what = p.failed ? `FAILED: ${p.failed}` : `${p.throughput.toFixed(1)} req/s, p99 ${p.latency.p99Ms.toFixed(2)} ms${p.stable ? '' : ' (unstable)'}`
    stream.write(`point ${index}/${total || '?'} ${p.id}: ${what}\n`)
  })
  return () => {}
}
