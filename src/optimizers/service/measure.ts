/** The before/after figures every optimiser run reports: fidelity, accuracy, latency. */
import type {Dataset} from '../../data/dataset.js'
import type {Device, InferenceSession} from '../../runtime/types.js'
import {openSession} from '../../runtime/load.js'
import {TfsoptError} from '../../errors.js'
import {fixedBatch} from '../../models/dtypes.js'
import {accuracy, argmaxRows, fidelity, type Fidelity} from '../evaluate/metrics.js'
import {compareLatency, runAll, type LatencyPair, type Outputs} from '../evaluate/run.js'

export interface AccuracyPair {
  before: number
  after: number
  drop: number
  samples: number
}

export interface Measurement {
  fidelity: Fidelity & {output: string; samples: number; data: string}
  accuracy?: AccuracyPair
  latency: LatencyPair[]
  threads: number
  /** Where the latencies were measured (the candidate's provider, e.g. cpu or cuda). */
  device: string
}

/** Latency is measured on CPU unless `quantize --device` asks for another device. */
export async function open(path: string, threads: number, device: Device = 'cpu'): Promise<InferenceSession> {
  return openSession(path, {device, intraOpThreads: threads})
}

/** Loads the written candidate and runs one sample: the check that decides whether it is kept. */
export async function smokeTest(path: string, ds: Dataset, threads: number, device: Device = 'cpu'): Promise<InferenceSession> {
  let s: InferenceSession | undefined
  try {
    s = await open(path, threads, device)
    const o = await runAll(s, ds, 1, 1)
    for (const [k, v] of Object.entries(o.data)) if (v.some((x) => !Number.isFinite(x))) throw new Error(`output ${k} holds NaN/Inf`)
    return s
  } catch (err) {
    await s?.dispose()
    throw new TfsoptError('E_RUNTIME', `the optimised model does not run: ${(err as Error).message.split('\n')[0]}`)
  }
}

export function compareOutputs(ref: Outputs, got: Outputs, ds: Dataset): {fid: Measurement['fidelity']; acc?: AccuracyPair} {
  const name = ref.names[0]!
  const a = ref.data[name]!
  const b = got.data[name] ?? got.data[got.names[0]!]!
  const fid = {...fidelity(a, b, ref.rows), output: name, samples: ref.rows, data: ds.source}
  let acc: AccuracyPair | undefined
  if (ds.labels && a.length % ref.rows === 0 && a.length / ref.rows > 1) {
    const before = accuracy(argmaxRows(a, ref.rows), ds.labels)
    const after = accuracy(argmaxRows(b, ref.rows), ds.labels)
    acc = {before, after, drop: before - after, samples: ref.rows}
  }
  return {fid, acc}
}

export async function measure(
  orig: InferenceSession,
  cand: InferenceSession,
  ds: Dataset,
  latencyDs: Dataset,
  opts: {threads: number; batches: number[]; refOutputs?: Outputs; latency?: Parameters<typeof compareLatency>[4]},
): Promise<Measurement> {
  const ref = opts.refOutputs ?? (await runAll(orig, ds))
  const got = await runAll(cand, ds)
  const {fid, acc} = compareOutputs(ref, got, ds)
  const latency: LatencyPair[] = []
  // a model with a fixed first dimension runs at that batch only
  const fixed = fixedBatch(orig.inputs)
  for (const b of fixed ? [fixed] : opts.batches) latency.push(await compareLatency(orig, cand, latencyDs, b, opts.latency))
  return {fidelity: fid, accuracy: acc, latency, threads: opts.threads, device: cand.device}
}
