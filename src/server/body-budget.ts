/**
 * A server-wide bound on the bytes of request bodies held in flight. A body with a declared length
 * reserves it before a byte is read, waiting briefly (FIFO) when the budget is taken; a chunked body
 * grows its reservation chunk by chunk and is refused when that cannot be done at once. Bytes stay
 * reserved until the request is answered, since the body (and what is decoded from it) lives until then.
 */
import {totalmem} from 'node:os'
import {TfsoptError} from '../errors.js'

/** Default budget: a sixteenth of the machine's memory, and at least one largest body. */
export function defaultInflightBodyBytes(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, Math.floor(totalmem() / 16))
}

/** How long a request may wait for room before it gets 503. */
export const BUDGET_WAIT_MS = 2000

export class BudgetExceeded extends TfsoptError {
  constructor(budget: number) {
    super(
      'E_UNAVAILABLE',
      `the server is holding its limit of request bodies in flight (--max-inflight-body-bytes ${budget} bytes); retry shortly, or send smaller bodies`,
    )
  }
}

export interface BudgetHooks {
  onChange(bytes: number): void
  onRefusal(): void
}

/** One request's reservation; release() is idempotent. */
export class BodyLease {
  bytes = 0
  constructor(private readonly budget: BodyBudget) {}

  /** Grows the reservation by n at once, or returns false (nothing reserved) when the budget lacks room. */
  grow(n: number): boolean {
    if (!this.budget.take(n)) return false
    this.bytes += n
    return true
  }

  /** The 503 for a body that outgrew the budget (counted as a refusal). */
  refuse(): BudgetExceeded {
    return this.budget.refuse()
  }

  release(): void {
    if (this.bytes) this.budget.give(this.bytes)
    this.bytes = 0
  }
}

interface Waiter {
  n: number
  lease: BodyLease
  resolve(l: BodyLease): void
  timer: NodeJS.Timeout
}

export class BodyBudget {
  used = 0
  private waiters: Waiter[] = []

  constructor(
    readonly capacity: number,
    private readonly hooks: BudgetHooks,
    private readonly waitMs = BUDGET_WAIT_MS,
  ) {}

  /** Reserves n bytes, waiting up to waitMs for room; rejects with BudgetExceeded (503) after that. */
  acquire(n: number): Promise<BodyLease> {
    const lease = new BodyLease(this)
    if (n === 0 || (this.waiters.length === 0 && lease.grow(n))) return Promise.resolve(lease)
    if (n > this.capacity) return Promise.reject(this.refuse())
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        n,
        lease,
        resolve,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          reject(this.refuse())
          this.wake() // a large waiter that gave up may unblock smaller ones behind it
        }, this.waitMs),
      }
      this.waiters.push(w)
    })
  }

  refuse(): BudgetExceeded {
    this.hooks.onRefusal()
    return new BudgetExceeded(this.capacity)
  }

  /** @internal (BodyLease) */
  take(n: number): boolean {
    if (this.used + n > this.capacity) return false
    this.used += n
    this.hooks.onChange(this.used)
    return true
  }

  /** @internal (BodyLease) */
  give(n: number): void {
    this.used -= n
    this.hooks.onChange(this.used)
    this.wake()
  }

  /** Serves waiters in arrival order while the first one fits. */
  private wake(): void {
    while (this.waiters.length) {
      const w = this.waiters[0]!
      if (!w.lease.grow(w.n)) return
      this.waiters.shift()
      clearTimeout(w.timer)
      w.resolve(w.lease)
    }
  }
}
