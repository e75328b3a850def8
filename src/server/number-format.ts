/**
 * Numbers in responses, written as TF Serving writes them: float32 with 6 significant digits when
 * that round-trips, else 9 (tensorflow's FloatToBuffer); float64 with 15, else 17 (DoubleToBuffer);
 * NaN and ±Infinity as the bare literals TF Serving emits. Either way a client parsing the response
 * gets the exact value the model produced.
 */
export function formatFloat32(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  if (v === 0) return Object.is(v, -0) ? '-0' : '0'
  let n = +v.toPrecision(6)
  if (Math.fround(n) !== v) n = +v.toPrecision(9)
  return String(n)
}

export function formatFloat64(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return 'Infinity'
  if (v === -Infinity) return '-Infinity'
  let n = +v.toPrecision(15)
  if (n !== v) n = +v.toPrecision(17)
  return String(n)
}
