/**
 * --load-nice: the CPU share of a model that loads while others serve (issue 16, quiet swaps).
 *
 * Loading a version (worker start-up, onnxruntime's session creation and graph optimisation, warm-up)
 * is a burst of CPU. On a machine whose cores the serving threads already use, that burst takes its fair
 * share from them and their p99 grows. Linux schedules threads, not processes, and lets a thread's nice
 * value be set by its thread id (setpriority(PRIO_PROCESS, tid) changes that one thread), so a loading
 * worker lowers its own priority before it opens the model; the threads onnxruntime creates for the
 * session inherit it; once the version is ready they all go back to the server's priority. Under
 * contention CFS gives a thread a share proportional to its weight, 1024 / 1.25^nice: nice 10 is about
 * 1/9 of a nice-0 thread, nice 19 about 1/70. With idle cores it costs nothing: nice only decides who
 * waits when threads compete.
 *
 * Going back up (lowering the nice value again) needs privilege: root with CAP_SYS_NICE, or an
 * RLIMIT_NICE that allows it (`ulimit -e`, systemd LimitNICE=, docker --ulimit nice=). Without it the
 * serving threads would stay at the low priority for ever, so the feature is then refused (explicit
 * flag) or left off (the default), and `tfsopt serve` says which.
 */
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {getPriority, setPriority} from 'node:os'

/** Default --load-nice where the server may restore priorities: about an eighth of a serving thread's share. */
export const DEFAULT_LOAD_NICE = 10

const CAP_SYS_NICE = 23n

/** This thread's kernel id (Linux), from /proc/thread-self → "<pid>/task/<tid>"; undefined elsewhere. */
export function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1))
    return Number.isInteger(tid) && tid > 0 ? tid : undefined
  } catch {
    return undefined
  }
}

/** The process's thread ids (Linux), or an empty list where /proc is not there. */
export function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter(Number.isInteger)
  } catch {
    return []
  }
}

/**
 * Whether this process may lower a thread's nice value back to `base` once raised: CAP_SYS_NICE in its
 * effective set, or RLIMIT_NICE's soft limit L with 20 − L ≤ base (setrlimit(2)). Undefined off Linux.
 */
export function canRestorePriority(base = getPriority(process.pid), proc = readProc): boolean | undefined {
  const status = proc('/proc/self/status')
  const limits = proc('/proc/self/limits')
  if (status === undefined || limits === undefined) return undefined
  const cap = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1]
  if (cap && (BigInt(`0x${cap}`) >> CAP_SYS_NICE) & 1n) return true
  const soft = /^Max nice priority\s+(\S+)/m.exec(limits)?.[1]
  if (soft === undefined) return false
  if (soft === 'unlimited') return true
  return 20 - Number(soft) <= base
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** CFS's share of one thread at `nice` against one nice-0 thread, 0–0.5 (weight 1024/1.25^nice). */
export function loadCpuShare(nice: number): number {
  const w = 1024 / 1.25 ** nice
  return w / (w + 1024)
}

// Per thread: each worker thread has its own instance of this module.
let held: {restore(): string | undefined} | undefined

/** Worker entry (worker-main.ts), before anything heavy loads: this thread at `nice` until restoreThisThread. */
export function lowerThisThread(nice: number): void {
  held = lowerForLoad(nice)
}

/** The worker is ready: its threads back to the server's priority. Returns a problem worth logging, if any. */
export function restoreThisThread(): string | undefined {
  const h = held
  held = undefined
  return h?.restore()
}

/**
 * Lower this thread to `nice` (relative to the server's) and remember which threads existed, so that
 * the ones the session adds can be given back their priority by `restore`.
 */
export function lowerForLoad(nice: number): {restore(): string | undefined} | undefined {
  const tid = threadId()
  if (tid === undefined || nice <= 0) return undefined
  const base = getPriority(process.pid)
  const before = new Set(threadIds())
  try {
    setPriority(tid, Math.min(19, base + nice))
  } catch {
    return undefined
  }
  return {
    // "Created while it loaded" can include a sibling worker's threads when a version starts several
    // workers at once; restoring those a little early is harmless (they end at the same priority).
    /** Back to the server's priority: this thread and the threads created while it loaded. Returns a problem, if any. */
    restore() {
      const problems: string[] = []
      for (const t of [tid, ...threadIds().filter((t) => !before.has(t))])
        try {
          setPriority(t, base)
        } catch (err) {
          // A thread that has already exited (ESRCH) needs nothing; anything else is worth saying.
          const code = (err as {code?: string}).code ?? (err as {info?: {code?: string}}).info?.code
          if (code !== 'ESRCH') problems.push(`thread ${t}: ${(err as Error).message}`)
        }
      return problems.length ? `could not restore the priority after loading (${problems.join('; ')})` : undefined
    },
  }
}
