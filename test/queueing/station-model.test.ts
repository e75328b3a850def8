import {test} from 'node:test'
import assert from 'node:assert/strict'
import {calibrateClosed, calibrateOpen, stationClosed, stationOpen, type StationCalibration} from '../../src/queueing/station-model.js'

const close = (got: number, want: number, rel = 1e-9) => assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `got ${got}, want ${want} (rel ${rel})`)

// Worked by hand with the MVA recursion R_k(n) = D_k(1 + Q_k(n−1)), X(n) = n/(Z + d + ΣR_k), Q_k = X·R_k.
const base: StationCalibration = {
  generatorS: 0,
  mainS: 1,
  workers: 1,
  alpha: 0,
  beta: 2,
  maxBatchSize: 1,
  timeoutS: 0,
  delayS: 0,
  gapS: 0,
  wakeS: 0,
}

test('closed: main D = 1 and worker t(1) = 2, N = 2 → X = 3/7, latency 14/3', () => {
  const f = stationClosed(base, 2)
  close(f.throughput, 3 / 7)
  close(f.meanLatencyS, 14 / 3)
  close(f.mainUtilisation, 3 / 7)
  close(f.workerUtilisation, 6 / 7)
})

test('closed: the generator is a third queue — three stations of D = 1, N = 2 → R_k = 4/3 each, X = 1/2', () => {
  const f = stationClosed({...base, generatorS: 1, beta: 1}, 2)
  close(f.throughput, 1 / 2)
  close(f.meanLatencyS, 4)
  close(f.generatorUtilisation, 1 / 2)
})

test('closed: a lone client pays d + ΣD + w; two clients pay no wake-up cost', () => {
  const cal = {...base, generatorS: 0.25, delayS: 0.5, wakeS: 0.75, gapS: 0.1}
  const one = stationClosed(cal, 1)
  close(one.meanLatencyS, 0.5 + 0.25 + 1 + 2 + 0.75)
  close(one.throughput, 1 / (4.5 + 0.1))
  assert.equal(stationClosed(cal, 2).wakeS, 0)
})

test('closed: the machine’s cores bound the throughput when the threads’ CPU exceeds them', () => {
  // MVA alone tends to 1/max D = 1/2 per s; 1 core at 2.5 CPU-s per request allows 0.4.
  const f = stationClosed({...base, beta: 1, cores: 1, cpuPerRequestS: 2.5}, 10)
  assert.equal(f.cpuBound, true)
  close(f.throughput, 0.4)
  close(f.meanLatencyS, 25)
})

test('closed calibration: delay d = 1 and wake-up w = 0.5 recovered from hand-worked measurements', () => {
  // With d = 1: n = 1 R_m = 1, R_w = 2, X = 1/4; n = 2 R_m = 5/4, R_w = 3, X = 8/21, latency 5.25.
  const cal = calibrateClosed(
    {generatorS: 0, mainS: 1, workers: 1, alpha: 0, beta: 2, maxBatchSize: 1, timeoutS: 0},
    {concurrency: 2, throughput: 8 / 21, meanLatencyS: 5.25},
    {concurrency: 1, throughput: 1 / 4.5, meanLatencyS: 4.5},
  )
  close(cal.delayS, 1, 1e-6)
  close(cal.gapS + 1, 1) // N/X − R = 5.25 − 5.25 = 0
  close(cal.wakeS, 0.5, 1e-6)
  assert.deepEqual(cal.notes, [])
})

test('closed calibration with the highest load: its throughput caps the forecasts (asymptotic bound)', () => {
  // Without the cap the model tends to 1/max D = 1/2 per s; the highest load measured 0.4/s.
  const cal = calibrateClosed(
    {generatorS: 0, mainS: 1, workers: 1, alpha: 0, beta: 2, maxBatchSize: 1, timeoutS: 0},
    {concurrency: 2, throughput: 8 / 21, meanLatencyS: 5.25},
    undefined,
    {concurrency: 10, throughput: 0.4, meanLatencyS: 25},
  )
  assert.equal(cal.capacity, 0.4)
  close(cal.delayS, 1, 1e-6) // 8/21 < 0.4: the cap does not touch N₂
  const f = stationClosed(cal, 20)
  assert.equal(f.throughput, 0.4)
  assert.equal(f.cpuBound, true)
  close(f.meanLatencyS, 50)
  assert.throws(() => stationOpen(cal, 0.45), /measured capacity/)
})

test('closed calibration: demands above the measured latency give d = 0 and say so', () => {
  const cal = calibrateClosed(
    {generatorS: 0, mainS: 1, workers: 1, alpha: 0, beta: 2, maxBatchSize: 1, timeoutS: 0},
    {concurrency: 2, throughput: 0.5, meanLatencyS: 4},
  )
  assert.equal(cal.delayS, 0)
  assert.match(cal.notes[0] ?? '', /demands alone give 4670 ms at N = 2, above the measured 4000 ms/)
})

// Open loop, λ = 1: main thread M/M/1 at D = 0.5 → W = 0.5/(1 − 0.5) = 1; worker M/D/1 at t(1) = 0.25,
// ρ = 0.25 → W = 0.25 + 0.25·0.25/(2·0.75) = 0.2916667 (Pollaczek-Khinchine); P(empty) = 0.5·0.75 = 0.375.
const openCal: StationCalibration = {...base, mainS: 0.5, beta: 0.25, delayS: 0.1, wakeS: 0.4}

test('open: d + M/M/1 main + M/D/1 worker + w·P(empty), worked by hand', () => {
  const f = stationOpen(openCal, 1)
  close(f.meanLatencyS, 0.1 + 1 + 0.25 + 0.25 ** 2 / 1.5 + 0.4 * 0.375, 1e-9)
  close(f.wakeS, 0.15)
  assert.equal(f.throughput, 1)
})

test('open calibration: two rates give back d = 0.1 and w = 0.4', () => {
  const r1 = stationOpen(openCal, 1).meanLatencyS
  // λ = 0.5: main W = 0.5/0.75, worker ρ = 0.125 → 0.25 + 0.125·0.25/1.75; P(empty) = 0.75·0.875.
  const r2 = 0.1 + 0.5 / 0.75 + 0.25 + (0.125 * 0.25) / 1.75 + 0.4 * 0.75 * 0.875
  close(stationOpen(openCal, 0.5).meanLatencyS, r2)
  const cal = calibrateOpen({generatorS: 0, mainS: 0.5, workers: 1, alpha: 0, beta: 0.25, maxBatchSize: 1, timeoutS: 0}, [
    {arrivalRate: 0.5, meanLatencyS: r2},
    {arrivalRate: 1, meanLatencyS: r1},
  ])
  close(cal.delayS, 0.1, 1e-9)
  close(cal.wakeS, 0.4, 1e-9)
})

test('open: an overloaded generator or machine is refused with the reason', () => {
  assert.throws(() => stationOpen({...openCal, generatorS: 2}, 1), /generator's thread cannot keep up/)
  assert.throws(() => stationOpen({...openCal, cores: 1, cpuPerRequestS: 1.5}, 1), /no steady state/)
})
