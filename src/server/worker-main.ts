/**
 * The inference worker's entry: with --load-nice the thread lowers its priority first, before onnxruntime
 * and the model load (load-priority.ts), then runs worker.ts, which restores it once the version is ready.
 */
import {workerData} from 'node:worker_threads'
import {lowerThisThread} from './load-priority.js'

lowerThisThread((workerData as {loadNice?: number}).loadNice ?? 0)
await import('./worker.js')
