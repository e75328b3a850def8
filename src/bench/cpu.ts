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

/**
 * CPU seconds the whole machine spent busy (all cores: user, nice, system, irq, softirq, steal) from
 * /proc/stat; undefined elsewhere. Minus the generator's and the server's own CPU, it is what other
 * processes (or the hypervisor, as steal) took during a point: the measured cause when a point on a
 * shared machine misses its forecast.
 */
export function machineBusySeconds(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)
    return line.startsWith('cpu ') ? busy / 100 : undefined
  } catch {
    return undefined
  }
}
