// Closed-loop load issued straight to PostgreSQL with the `postgres` driver (no PR server): the
// baselines the PR server's PostgreSQL backend is compared with (issue 3 §2).
import postgres from 'postgres'
import { describeError } from './describe-error.js'
import { LoadStats, summarizeLatencies } from './load-stats.js'
import { readMachineCpu, WindowCpuMeter } from './process-cpu.js'
import type { ScenarioResult } from './report.js'

export interface SqlLoadOptions {
  readonly label: string
  readonly url: string
  readonly connectionCount: number
  readonly warmupMs: number
  readonly durationMs: number
  /** Creates the tables the operation needs. */
  readonly setUp: (sql: postgres.Sql) => Promise<void>
  /** One unit of work (one acknowledged row); `counter` is unique per client. */
  readonly operation: (sql: postgres.Sql, clientIndex: number, counter: number) => Promise<void>
  /** Checks the stored rows against the number of acknowledged operations. */
  readonly check: (sql: postgres.Sql, acknowledgedCount: number) => Promise<string>
}

/** Runs `connectionCount` clients, each awaiting its operation before starting the next. */
export async function runSqlLoad(options: SqlLoadOptions): Promise<ScenarioResult> {
  const sql = postgres(options.url, { max: options.connectionCount, onnotice: () => undefined })
  try {
    await options.setUp(sql)
    // Open every pooled connection before the clock starts.
    await Promise.all(Array.from({ length: options.connectionCount }, () => sql`SELECT 1`))
    const warmupEndMs = performance.now() + options.warmupMs
    const measureEndMs = warmupEndMs + options.durationMs
    const stats = new LoadStats(warmupEndMs, measureEndMs)
    const cpu = new WindowCpuMeter(warmupEndMs, measureEndMs)
    const noCpu = { busyMs: Number.NaN, stealMs: Number.NaN }
    const machine = { start: noCpu, end: noCpu }
    setTimeout(() => {
      machine.start = readMachineCpu()
    }, warmupEndMs - performance.now())
    setTimeout(() => {
      machine.end = readMachineCpu()
    }, measureEndMs - performance.now())
    await Promise.all(
      Array.from({ length: options.connectionCount }, (_, clientIndex) =>
        runClient(sql, options, clientIndex, stats, measureEndMs),
      ),
    )
    cpu.close()
    const result = stats.toResult(cpu.cpuMs)
    const latency = summarizeLatencies([result.latenciesMs])
    const machineCpuMs = machine.end.busyMs - machine.start.busyMs
    const stealCpuMs = machine.end.stealMs - machine.start.stealMs
    return {
      scenario: options.label,
      connections: options.connectionCount,
      requests: result.measuredCount,
      reqPerSec: result.measuredCount / (options.durationMs / 1000),
      p50Ms: latency.p50Ms,
      p99Ms: latency.p99Ms,
      errors: result.errorCount,
      // PostgreSQL's own processes are not told apart from the rest of the machine here.
      serverCpuPercent: Number.NaN,
      generatorCpuPercent: (result.cpuMs / options.durationMs) * 100,
      otherCpuPercent: ((machineCpuMs - result.cpuMs) / options.durationMs) * 100,
      stealCpuPercent: (stealCpuMs / options.durationMs) * 100,
      check: await options.check(sql, result.allocOkCount),
      errorSamples: result.errorSamples,
    }
  } finally {
    await sql.end({ timeout: 5 })
  }
}

async function runClient(
  sql: postgres.Sql,
  options: SqlLoadOptions,
  clientIndex: number,
  stats: LoadStats,
  measureEndMs: number,
): Promise<void> {
  for (let counter = 0; ; counter += 1) {
    const sentMs = performance.now()
    if (sentMs >= measureEndMs) return
    try {
      await options.operation(sql, clientIndex, counter)
      stats.recordSuccess(true, sentMs, performance.now())
    } catch (error: unknown) {
      stats.recordError(describeError(error))
    }
  }
}
