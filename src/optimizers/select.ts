/** Which nodes / weights an optimiser touches: op types, and fnmatch-style globs on names. */

/** fnmatch-style glob (`*`, `?`, `[abc]`) as a whole-string RegExp, as tfjs-converter's flags use. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') re += '.*'
    else if (c === '?') re += '.'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1)
      if (end < 0) re += '\\['
      else {
        let body = glob.slice(i + 1, end)
        if (body.startsWith('!')) body = `^${body.slice(1)}`
        re += `[${body.replace(/\\/g, '\\\\')}]`
        i = end
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

export interface NameFilter {
  include?: string[]
  exclude?: string[]
}

/**
 * A thing is selected when it matches an include glob (or no includes were given) and no exclude
 * glob. Several names can stand for one thing (a node's name and its weight's name): any may match.
 */
export function selects(filter: NameFilter, ...names: (string | undefined)[]): boolean {
  const ns = names.filter((n): n is string => !!n)
  const inc = (filter.include ?? []).map(globToRegExp)
  const exc = (filter.exclude ?? []).map(globToRegExp)
  if (inc.length && !ns.some((n) => inc.some((r) => r.test(n)))) return false
  return !ns.some((n) => exc.some((r) => r.test(n)))
}

/** Splits a comma list flag ("MatMul,Conv") into trimmed entries. */
export const splitList = (s: string | undefined): string[] | undefined =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined
