/**
 * CPU accounting. The load generator runs in this process, so its CPU is process.cpuUsage(); on a
 * 2-core machine a generator near a full core (≥ GENERATOR_CPU_WARN) competes with the server it
 * measures, and the report must say so. The built-in server's CPU is read from /proc when its
 * /metrics lacks process_cpu_seconds_total.
 */
import {readFileSync} from 'node:fs'

export const GENERATOR_CPU_WARN = 0.85

export class CpuMeter {
  private u = process.cpuUsage()
  private t = process.hrtime.bigint()
  /** Cores used by this process since the last call (user + system). */
  lap(): number {
    const u = process.cpuUsage(this.u)
    const now = process.hrtime.bigint()
    const wall = Number(now - this.t) / 1e9
    this.u = process.cpuUsage()
    this.t = now
    return wall > 0 ? (u.user + u.system) / 1e6 / wall : 0
  }
}

/** utime+stime of a Linux process in seconds (including waited-for children); undefined elsewhere. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14), in clock ticks.
    const ticks = [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i] ?? 0), 0)
    return ticks / 100
  } catch {
    return undefined
  }
}
