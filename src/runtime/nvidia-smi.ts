/**
 * GPU memory and utilisation from `nvidia-smi --query-gpu` (NVIDIA's driver tool), where it is on the
 * PATH. onnxruntime-node reports neither, so this is the one reading there is; elsewhere (no NVIDIA
 * driver, or a WebGPU adapter from another vendor) it is absent, and callers say so instead of guessing.
 */
import {spawnSync} from 'node:child_process'

export interface GpuStat {
  index: number
  name: string
  memoryUsedBytes: number
  memoryTotalBytes: number
  /** 0–1: the share of the last sample period in which a kernel ran (nvidia-smi's utilization.gpu). */
  utilization: number
}

export const NVIDIA_SMI_QUERY = ['--query-gpu=index,name,memory.used,memory.total,utilization.gpu', '--format=csv,noheader,nounits']

/** Parses nvidia-smi's CSV lines ("0, NVIDIA H100 80GB HBM3, 1234, 81559, 37"; MiB and percent). */
export function parseNvidiaSmi(text: string): GpuStat[] {
  const out: GpuStat[] = []
  for (const line of text.split('\n')) {
    const f = line.split(',').map((s) => s.trim())
    if (f.length < 5) continue
    const [index, name, used, total, util] = f as [string, string, string, string, string]
    const n = [Number(index), Number(used), Number(total), Number(util)]
    // "[N/A]" (a field the GPU does not report) makes the row unusable for that field: skip the row.
    if (n.some((x) => !Number.isFinite(x))) continue
    out.push({index: n[0]!, name, memoryUsedBytes: n[1]! * 1024 * 1024, memoryTotalBytes: n[2]! * 1024 * 1024, utilization: n[3]! / 100})
  }
  return out
}

/** One reading, or undefined when nvidia-smi is absent or fails (within 2 s). */
export function readGpuStats(bin = process.env.TFSOPT_NVIDIA_SMI ?? 'nvidia-smi'): GpuStat[] | undefined {
  const r = spawnSync(bin, NVIDIA_SMI_QUERY, {encoding: 'utf8', timeout: 2000})
  if (r.error || r.status !== 0) return undefined
  const stats = parseNvidiaSmi(r.stdout)
  return stats.length ? stats : undefined
}
