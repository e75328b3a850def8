/**
 * Metrics that exist only when a version runs on a GPU execution provider (absent on CPU, so a CPU
 * server's scrape is unchanged):
 *   tfsopt_device_nodes{model,version,provider}          nodes each provider took (onnxruntime's profile)
 *   tfsopt_device_copy_seconds{model,version,direction}  host↔device copy time of one run, from the
 *                                                        MemcpyFromHost/MemcpyToHost nodes of the profiled warm-up run
 *   tfsopt_device_copy_share{model,version}              those copies ÷ that run's time
 *   tfsopt_gpu_memory_used_bytes{gpu}, tfsopt_gpu_utilization_ratio{gpu}
 *                                                        nvidia-smi at scrape time, where it is installed
 */
import {Gauge, type Registry} from 'prom-client'
import type {Placement} from '../runtime/placement.js'
import {readGpuStats} from '../runtime/nvidia-smi.js'

export class GpuMetrics {
  private nodes?: Gauge
  private copySeconds?: Gauge
  private copyShare?: Gauge
  /** Provider labels set per version, to remove them again. */
  private readonly providers = new Map<string, string[]>()

  constructor(private readonly registry: Registry) {}

  /** A version went AVAILABLE on a GPU provider: its placement and copy costs, and the GPU gauges once. */
  recordVersion(model: string, version: string, p: Placement): void {
    this.ensure()
    this.providers.set(`${model}\u0000${version}`, Object.keys(p.byProvider))
    for (const [provider, n] of Object.entries(p.byProvider)) this.nodes!.set({model, version, provider}, n)
    this.copySeconds!.set({model, version, direction: 'host_to_device'}, p.copies.hostToDeviceSeconds)
    this.copySeconds!.set({model, version, direction: 'device_to_host'}, p.copies.deviceToHostSeconds)
    const copies = p.copies.hostToDeviceSeconds + p.copies.deviceToHostSeconds
    if (p.runSeconds > 0) this.copyShare!.set({model, version}, copies / p.runSeconds)
  }

  /** A version was unloaded: its series go. */
  removeVersion(model: string, version: string): void {
    const providers = this.providers.get(`${model}\u0000${version}`)
    if (!providers) return
    this.providers.delete(`${model}\u0000${version}`)
    for (const provider of providers) this.nodes!.remove({model, version, provider})
    for (const direction of ['host_to_device', 'device_to_host']) this.copySeconds!.remove({model, version, direction})
    this.copyShare!.remove({model, version})
  }

  private ensure(): void {
    if (this.nodes) return
    const registers = [this.registry]
    this.nodes = new Gauge({
      name: 'tfsopt_device_nodes',
      help: 'Graph nodes each execution provider runs',
      labelNames: ['model', 'version', 'provider'],
      registers,
    })
    this.copySeconds = new Gauge({
      name: 'tfsopt_device_copy_seconds',
      help: 'Host-device copy time of one run (profiled warm-up run at batch 1)',
      labelNames: ['model', 'version', 'direction'],
      registers,
    })
    this.copyShare = new Gauge({
      name: 'tfsopt_device_copy_share',
      help: 'Host-device copies as a share of the profiled warm-up run',
      labelNames: ['model', 'version'],
      registers,
    })
    if (!readGpuStats()) return
    // One nvidia-smi reading per scrape, shared by both gauges (the memory gauge's collect runs first).
    let last: ReturnType<typeof readGpuStats>
    new Gauge({
      name: 'tfsopt_gpu_memory_used_bytes',
      help: 'GPU memory in use, all processes (nvidia-smi)',
      labelNames: ['gpu'],
      registers,
      collect() {
        last = readGpuStats()
        for (const g of last ?? []) this.set({gpu: String(g.index)}, g.memoryUsedBytes)
      },
    })
    new Gauge({
      name: 'tfsopt_gpu_utilization_ratio',
      help: 'Share of the last sample period a kernel ran on the GPU (nvidia-smi)',
      labelNames: ['gpu'],
      registers,
      collect() {
        for (const g of last ?? []) this.set({gpu: String(g.index)}, g.utilization)
      },
    })
  }
}

const perRegistry = new WeakMap<Registry, GpuMetrics>()

/** The GPU metrics of one server's registry (created on first use unless `create` is false). */
export function gpuMetricsFor(registry: Registry, create = true): GpuMetrics | undefined {
  let g = perRegistry.get(registry)
  if (!g && create) perRegistry.set(registry, (g = new GpuMetrics(registry)))
  return g
}
