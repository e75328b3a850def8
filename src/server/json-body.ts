/**
 * Parses a predict body. TF Serving accepts NaN and Infinity as literals and int64 values beyond 2^53,
 * which JSON.parse rejects or rounds. The fast path is JSON.parse; only a body that fails it, or holds
 * an integer too long to be exact as a double, is rewritten first: NaN becomes a sentinel string, the
 * infinities become 1e999 (which parses to ±Infinity), and long integers become sentinel strings that
 * the tensor decoder turns back into exact BigInts.
 */
import {badRequest} from '../errors.js'

/** Sentinels start with a NUL so that no real JSON string is mistaken for one. */
export const NAN_SENTINEL = '\u0000NaN'
export const BIGINT_PREFIX = '\u0000I'

const LONG_INT = /(?:^|[[,:\s])-?\d{16,}(?=\s*[,\]}]|\s*$)/

/** JSON nesting allowed in a body: a tensor's rank (tensor-json MAX_RANK) plus the objects around it. */
export const MAX_JSON_DEPTH = 40
/** Bodies up to this size are parsed without the depth pre-scan: nesting them fully costs a few ms at most. */
const DEPTH_SCAN_FROM = 64 * 1024

/**
 * True when lists/objects nest deeper than `max` (outside strings). JSON.parse copes with any depth, but
 * a deeply nested body costs ~30× more per byte to parse than a flat one (one JS array per bracket), so a
 * 64 MiB body of brackets would block the event loop for many seconds and take gigabytes.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return true
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--
    else if (c === 34 /* " */) i = closingQuote(text, i + 1)
  }
  return false
}

/** Index of the quote that closes a JSON string whose body starts at `i` (escapes skipped), or text.length. */
function closingQuote(text: string, i: number): number {
  const n = text.length
  while (i < n) {
    const d = text.charCodeAt(i)
    if (d === 92 /* \ */) i += 2
    else if (d === 34) return i
    else i++
  }
  return n
}

export function parseJsonBody(text: string): unknown {
  if (text.length > DEPTH_SCAN_FROM && nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw badRequest(`the JSON body nests lists/objects more than ${MAX_JSON_DEPTH} deep; a tensor has at most 32 dimensions`)
  }
  if (!LONG_INT.test(text)) {
    try {
      return JSON.parse(text)
    } catch {
      // fall through to the rewriting parser, which reports the error if it is real
    }
  }
  try {
    return JSON.parse(rewriteSpecials(text))
  } catch (err) {
    throw badRequest(`malformed JSON body: ${(err as Error).message}; expected a JSON object such as {"instances": [...]} or {"inputs": ...}`)
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/** Rewrites NaN/Infinity/long integers outside strings; everything else is copied as is. */
export function rewriteSpecials(text: string): string {
  let out = ''
  let last = 0
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      i = closingQuote(text, i + 1) + 1
      continue
    }
    let rep: string | undefined
    let len = 0
    if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      rep = `"\\u0000NaN"`
      len = 3
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      rep = '1e999'
      len = 8
    } else if (c === 45 /* - */ && text.startsWith('-Infinity', i)) {
      rep = '-1e999'
      len = 9
    } else if (c === 45 || isDigit(c)) {
      let j = c === 45 ? i + 1 : i
      while (j < n && isDigit(text.charCodeAt(j))) j++
      const next = j < n ? text.charCodeAt(j) : 0
      const isInt = next !== 46 /* . */ && next !== 101 && next !== 69
      const tok = text.slice(i, j)
      // Only a token that can be an int64/uint64 (at most 20 digits and a sign) becomes a BigInt
      // sentinel; a longer one stays a (rounded or infinite) double and is refused as an integer later.
      if (isInt && tok.length >= 16 && tok.length <= 21 && !Number.isSafeInteger(Number(tok))) rep = `"\\u0000I${tok}"`
      else {
        // skip the rest of the number token (fraction, exponent)
        while (j < n && /[0-9.eE+-]/.test(text[j]!)) j++
      }
      len = j - i
    }
    if (rep !== undefined) {
      out += text.slice(last, i) + rep
      i += len
      last = i
    } else i += len || 1
  }
  return last === 0 ? text : out + text.slice(last)
}
