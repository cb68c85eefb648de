/**
 * Writer threads of this process. Each open read-write store owns one thread; a closed store's
 * thread waits here (unreferenced, so it never keeps the process alive) for the next store,
 * which saves the thread start-up (and, when running from TypeScript sources, the loader's).
 */
import { Worker } from 'node:worker_threads'

/** Idle writer threads kept for reuse; more are terminated. */
export const MAX_IDLE_WRITER_THREADS = 4

const idleThreads: Worker[] = []

function createWriterThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./sqlite-writer-worker.js', import.meta.url))
  }
  // Running from sources under tsx: Node 20 does not apply `--import tsx` from a worker's
  // execArgv before loading its entry, so register tsx's loader first, then import the .ts.
  const tsxApi = import.meta.resolve('tsx/esm/api')
  const entry = new URL('./sqlite-writer-worker.ts', import.meta.url).href
  const bootstrap =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((api) => { api.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { eval: true })
}

/** A writer thread with no database open and no listeners, referenced (keeps the process up). */
export function acquireWriterThread(): Worker {
  const worker = idleThreads.pop() ?? createWriterThread()
  worker.removeAllListeners()
  worker.ref()
  return worker
}

/**
 * Takes back a healthy thread whose database is closed (after its `closed` reply). The caller
 * must not use it afterwards.
 */
export function releaseWriterThread(worker: Worker): void {
  worker.removeAllListeners()
  if (idleThreads.length >= MAX_IDLE_WRITER_THREADS) {
    void worker.terminate()
    return
  }
  const forget = (): void => {
    const index = idleThreads.indexOf(worker)
    if (index >= 0) idleThreads.splice(index, 1)
  }
  worker.on('error', forget)
  worker.on('exit', forget)
  worker.unref()
  idleThreads.push(worker)
}
