/**
 * A `startServer` in its own process, so the tests measure the server's memory (not the client's) and
 * can force a GC before reading it. Started by harness.ts with `--expose-gc --import tsx`; argv[2] is
 * the ServerOptions as JSON. Prints one ready line on stdout, answers {type:'mem'} over IPC, and drains
 * and exits 0 on {type:'stop'} or SIGTERM.
 */
import {startServer, type ServerOptions} from '../../src/server/index.js'

const opts = JSON.parse(process.argv[2] ?? '{}') as ServerOptions
const logLines: string[] = []
const server = await startServer({
  ...opts,
  log: (l) => {
    logLines.push(l)
    if (logLines.length > 200) logLines.shift()
  },
})
process.stdout.write(`${JSON.stringify({event: 'ready', url: server.url, pid: process.pid})}\n`)

const gc = (globalThis as {gc?: () => void}).gc
let stopping = false
async function stop(): Promise<void> {
  if (stopping) return
  stopping = true
  await server.close()
  process.exit(0)
}

process.on('message', (msg: {type: string; id: number}) => {
  if (msg.type === 'mem') {
    // Two full collections: the first may only queue finalizers.
    gc?.()
    gc?.()
    const m = process.memoryUsage()
    process.send!({id: msg.id, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers})
  } else if (msg.type === 'log') process.send!({id: msg.id, lines: logLines})
  else if (msg.type === 'stop') void stop()
})
process.on('SIGTERM', () => void stop())
process.on('disconnect', () => void stop())
