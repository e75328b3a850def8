/**
 * Per-node placement from an onnxruntime profile (`enableProfiling`): each executed node appears as a
 * "<node>_kernel_time" event of category "Node" whose args name its `provider` and `op_name`. The
 * copies a GPU provider inserts between host and device are nodes too (MemcpyFromHost: host → device,
 * MemcpyToHost: device → host), so their time comes from the same trace. Pure: parses events.
 */

export interface TraceEvent {
  cat?: string
  name?: string
  dur?: number
  args?: {provider?: string; op_name?: string}
}

export interface Placement {
  /** Distinct nodes executed in the profiled run(s). */
  nodes: number
  /** Nodes per onnxruntime provider name (e.g. CPUExecutionProvider: 12). */
  byProvider: Record<string, number>
  /** With a GPU provider: the nodes that ran on the CPU instead (name and op type); empty on CPU. */
  cpuFallback: {node: string; op: string}[]
  /** Host↔device copies the provider inserted, with their summed kernel time per profiled run. */
  copies: {hostToDevice: number; deviceToHost: number; hostToDeviceSeconds: number; deviceToHostSeconds: number}
  /** Summed time of the profiled runs ("model_run" events), to put the copies in proportion. */
  runSeconds: number
  runs: number
}

const KERNEL_SUFFIX = '_kernel_time'

export function placementFromProfile(events: TraceEvent[], gpuProvider?: string): Placement {
  const seen = new Map<string, {provider: string; op: string}>()
  const copies = {hostToDevice: 0, deviceToHost: 0, hostToDeviceSeconds: 0, deviceToHostSeconds: 0}
  let runSeconds = 0
  let runs = 0
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') {
      runSeconds += (e.dur ?? 0) / 1e6
      runs++
      continue
    }
    if (e.cat !== 'Node' || !e.name?.endsWith(KERNEL_SUFFIX) || !e.args?.provider) continue
    const node = e.name.slice(0, -KERNEL_SUFFIX.length)
    const op = e.args.op_name ?? '?'
    const first = !seen.has(node)
    seen.set(node, {provider: e.args.provider, op})
    if (op === 'MemcpyFromHost') {
      if (first) copies.hostToDevice++
      copies.hostToDeviceSeconds += (e.dur ?? 0) / 1e6
    } else if (op === 'MemcpyToHost') {
      if (first) copies.deviceToHost++
      copies.deviceToHostSeconds += (e.dur ?? 0) / 1e6
    }
  }
  const byProvider: Record<string, number> = {}
  const cpuFallback: Placement['cpuFallback'] = []
  for (const [node, {provider, op}] of seen) {
    byProvider[provider] = (byProvider[provider] ?? 0) + 1
    if (gpuProvider && provider === 'CPUExecutionProvider') cpuFallback.push({node, op})
  }
  // Per run, so a figure does not grow with the number of runs profiled.
  if (runs > 1) {
    copies.hostToDeviceSeconds /= runs
    copies.deviceToHostSeconds /= runs
  }
  return {nodes: seen.size, byProvider, cpuFallback, copies, runSeconds: runs ? runSeconds / runs : 0, runs}
}

/** "WebGpuExecutionProvider 40, CPUExecutionProvider 2 (Shape, Gather)". */
export function describePlacement(p: Placement): string {
  const parts = Object.entries(p.byProvider)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
  const fb = p.cpuFallback.length ? `; on CPU instead: ${[...new Set(p.cpuFallback.map((f) => f.op))].join(', ')}` : ''
  return `${p.nodes} nodes: ${parts.join(', ')}${fb}`
}
