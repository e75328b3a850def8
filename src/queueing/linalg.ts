/** Tiny dense linear algebra for the 2–3 parameter fits (no dependency needed at this size). */

/** Solves A·x = b by Gaussian elimination with partial pivoting; null if A is singular. */
export function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i] ?? 0])
  for (let col = 0; col < n; col++) {
    let piv = col
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[piv]![col]!)) piv = r
    if (m[piv]![col] === 0 || !Number.isFinite(m[piv]![col]!)) return null
    ;[m[col], m[piv]] = [m[piv]!, m[col]!]
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!
      for (let k = col; k <= n; k++) m[r]![k]! -= f * m[col]![k]!
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!
    for (let k = r + 1; k < n; k++) s -= m[r]![k]! * x[k]!
    x[r] = s / m[r]![r]!
  }
  return x
}

/** Inverse of a small square matrix (column by column through solve); null if singular. */
export function invert(a: number[][]): number[][] | null {
  const n = a.length
  const cols: number[][] = []
  for (let j = 0; j < n; j++) {
    const e = new Array<number>(n).fill(0)
    e[j] = 1
    const x = solve(a, e)
    if (!x) return null
    cols.push(x)
  }
  return a.map((_, i) => cols.map((col) => col[i]!))
}
