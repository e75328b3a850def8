/** The drain both fronts (HTTP and gRPC) share: wait for in-flight requests to end, bounded by drainMs. */

/**
 * Resolves when the front is idle (a waiter pushed here is called by the front when its in-flight count
 * reaches 0) or drainMs has passed, whichever is first; returns the time left of drainMs.
 */
export async function waitIdle(inflight: number, idleWaiters: Array<() => void>, drainMs: number): Promise<number> {
  const t0 = Date.now()
  if (inflight > 0) {
    let t: NodeJS.Timeout | undefined
    await Promise.race([new Promise<void>((r) => idleWaiters.push(r)), new Promise<void>((r) => (t = setTimeout(r, drainMs)))])
    clearTimeout(t)
  }
  return Math.max(0, drainMs - (Date.now() - t0))
}
