/**
 * How to start the worker thread. From dist/ the compiled worker-main.js (which imports worker.js) sits next to this file and runs
 * as is. Under tsx (tests, bin/dev.js) the sibling is worker-main.ts, and on Node 20 a worker neither
 * inherits the parent's module hooks nor honours `--import tsx` in execArgv for its entry module, so a
 * tiny eval'd bootstrap registers tsx's ESM hooks in the thread first and then imports worker-main.ts.
 */
export function workerEntry(): {source: string | URL; eval: boolean} {
  const here = import.meta.url
  if (!here.endsWith('.ts')) return {source: new URL('./worker-main.js', here), eval: false}
  const api = import.meta.resolve('tsx/esm/api')
  const target = new URL('./worker-main.ts', here).href
  const source = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}) })`
  return {source, eval: true}
}
