// What every part of a bench run shares: options, load processes, temp dir, results, progress.
import { join } from 'node:path'
import type { BenchOptions } from './bench-options.js'
import type { LoadPool } from './load-pool.js'
import type { ScenarioResult } from './report.js'
import { ServerProcess } from './server-process.js'

export const BENCH_HOST = '127.0.0.1'

export interface BenchContext {
  readonly options: BenchOptions
  readonly pool: LoadPool
  /** Temporary directory for databases and server logs. */
  readonly workDir: string
  /** Random tag in every package name of this run. */
  readonly runTag: string
  readonly results: ScenarioResult[]
  /** Progress line on stderr (stdout carries only the report). */
  readonly log: (message: string) => void
}

/** Starts the server under test on `database`, logging to `<workDir>/server-<name>.log`. */
export async function startBenchServer(
  context: BenchContext,
  name: string,
  database: string,
  extraArgs = '',
): Promise<ServerProcess> {
  const logPath = join(context.workDir, `server-${name}.log`)
  context.log(`starting server (${name}), log ${logPath}`)
  const startedMs = performance.now()
  const server = await ServerProcess.start({
    commandTemplate: `${context.options.serverCmd}${extraArgs}`,
    database,
    host: BENCH_HOST,
    logPath,
    readyTimeoutMs: context.options.readyTimeoutMs,
  })
  const readyMs = performance.now() - startedMs
  context.log(`server (${name}) ready on port ${server.port} after ${readyMs.toFixed(0)} ms`)
  return server
}

/**
 * Runs `work` against a started server and always stops the server afterwards. `extraArgs`
 * (with a leading space) goes after `--server-cmd`, e.g. ' --read-only'.
 */
export async function withServer(
  context: BenchContext,
  name: string,
  database: string,
  work: (server: ServerProcess) => Promise<void>,
  extraArgs = '',
): Promise<void> {
  const server = await startBenchServer(context, name, database, extraArgs)
  try {
    await work(server)
  } finally {
    await server.stop()
  }
}
