/**
 * Seeded pseudo-random numbers. The gate's bootstrap must give the same answer for the same inputs
 * (a CI gate that flips between runs on identical data is worse than none), so nothing in tfsopt's
 * statistics uses Math.random.
 */

/** A function returning uniform numbers in [0, 1). */
export type Rng = () => number

/**
 * mulberry32 (Tommy Ettinger): 32-bit state, period 2^32, passes gjrand/PractRand far enough for
 * resampling. Small, fast and portable, which is what a bootstrap needs; not for cryptography.
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n)
}

/** Standard normal draw (Box-Muller); used to build synthetic sample sets in tests and demos. */
export function randomNormal(rng: Rng, mean = 0, sd = 1): number {
  // 1 - rng() is in (0, 1], so the log is finite.
  const u = 1 - rng()
  const v = rng()
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/** Log-normal draw with the given median and log-space sigma: latency-like, right-skewed noise. */
export function randomLogNormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(randomNormal(rng, 0, sigma))
}

/** Fisher–Yates shuffle in place with the given PRNG (deterministic splits and shuffles). */
export function shuffleInPlace<T>(arr: T[], rand: Rng): T[] {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const tmp = arr[i]!
    arr[i] = arr[j]!
    arr[j] = tmp
  }
  return arr
}
