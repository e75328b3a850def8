/**
 * What machine a run was measured on. Latency and throughput only compare across runs on the same
 * kind of machine, so a baseline records it and the gate warns (not fails) when they differ: CI
 * runners change hardware under you, and a warning tells you why a result moved.
 */
import os from 'node:os'

export interface MachineInfo {
  cpuModel: string
  cores: number
  memoryBytes: number
  node: string
  platform: string
  arch: string
  hostname?: string
}

export function describeMachine(): MachineInfo {
  const cpus = os.cpus()
  return {
    cpuModel: (cpus[0]?.model ?? 'unknown').trim(),
    // availableParallelism honours cgroup/affinity limits (containers), which is what the server gets.
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    hostname: os.hostname(),
  }
}

const GiB = 1024 ** 3

/**
 * Human-readable differences that can change performance ("cores: 2 → 4"). The hostname is not
 * compared (ephemeral CI runners all have different names), and memory only when it differs by
 * more than 5% (VMs of one type report slightly different totals).
 */
export function machineDiffers(a: Partial<MachineInfo> | undefined, b: Partial<MachineInfo> | undefined): string[] {
  if (!a || !b) return ['machine description missing in one run']
  const out: string[] = []
  const cmp = (label: string, x: unknown, y: unknown) => {
    if (x !== undefined && y !== undefined && x !== y) out.push(`${label}: ${String(x)} → ${String(y)}`)
  }
  cmp('CPU model', a.cpuModel, b.cpuModel)
  cmp('cores', a.cores, b.cores)
  if (a.memoryBytes && b.memoryBytes && Math.abs(a.memoryBytes - b.memoryBytes) / Math.max(a.memoryBytes, b.memoryBytes) > 0.05) {
    out.push(`memory: ${(a.memoryBytes / GiB).toFixed(1)} GiB → ${(b.memoryBytes / GiB).toFixed(1)} GiB`)
  }
  cmp('Node', a.node, b.node)
  cmp('platform', a.platform, b.platform)
  cmp('arch', a.arch, b.arch)
  return out
}
