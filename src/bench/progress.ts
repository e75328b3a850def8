/**
 * A progress line with ETA on stderr while sweeping, subscribed to the engine's events. Quiet when
 * stderr is not a TTY or with --json (autocannon attaches its progress bar only on a TTY too).
 */
import type {BenchEngine, EngineEvents} from './run.js'

export function attachProgress(engine: BenchEngine, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => {}
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
