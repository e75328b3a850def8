import {test} from 'node:test'
import assert from 'node:assert/strict'
import {describeMachine, machineDiffers} from '../../src/results/machine.ts'
import {MACHINE} from './synthetic.ts'

test('describeMachine reports this machine', () => {
  const m = describeMachine()
  assert.ok(m.cpuModel.length > 0)
  assert.ok(m.cores >= 1)
  assert.ok(m.memoryBytes > 0)
  assert.equal(m.node, process.version)
  assert.equal(m.platform, process.platform)
  assert.equal(m.arch, process.arch)
})

test('machineDiffers: same machine (even another hostname) → no differences', () => {
  assert.deepEqual(machineDiffers(MACHINE, {...MACHINE, hostname: 'runner-42'}), [])
  assert.deepEqual(machineDiffers(MACHINE, {...MACHINE, memoryBytes: MACHINE.memoryBytes * 0.98}), [])
})

test('machineDiffers lists what changed', () => {
  const d = machineDiffers(MACHINE, {...MACHINE, cpuModel: 'AMD EPYC', cores: 4, node: 'v22.1.0', memoryBytes: 16 * 1024 ** 3})
  assert.deepEqual(d, ['CPU model: Synthetic CPU @ 3.0GHz → AMD EPYC', 'cores: 2 → 4', 'memory: 8.0 GiB → 16.0 GiB', 'Node: v20.20.2 → v22.1.0'])
  assert.deepEqual(machineDiffers(MACHINE, undefined), ['machine description missing in one run'])
})
