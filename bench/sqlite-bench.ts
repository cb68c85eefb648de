// The SQLite part of the bench: the shared-database scenarios, then alloc-1-big.
import { join } from 'node:path'
import { withServer, type BenchContext } from './bench-context.js'
import { BIG_PACKAGE_VERSION, createBigDatabase } from './big-database.js'
import { formatAllocVersions, runScenario } from './scenario-runner.js'
import { SCENARIOS, type ScenarioName } from './scenarios.js'
import type { ServerProcess } from './server-process.js'
import { seedLookupPackages } from './wire-setup.js'

/** Runs every selected scenario of the empty shared database, on one server. */
export async function runSharedScenarios(context: BenchContext): Promise<void> {
  const scenarios = context.options.scenarios.filter(
    (name) => SCENARIOS[name].database === 'shared',
  )
  if (scenarios.length === 0) return
  const database = join(context.workDir, 'shared.sqlite3')
  await withServer(context, 'shared', database, async (server) => {
    let isSeeded = false
    for (const scenario of scenarios) {
      if (SCENARIOS[scenario].needsLookupSeed && !isSeeded) {
        const count = context.options.lookupPackageCount
        context.log(`pre-populating ${count} lookup packages over the wire`)
        await seedLookupPackages(server.host, server.port, count)
        isSeeded = true
      }
      await runAtEveryCount(context, server, scenario, (connections) =>
        formatAllocVersions(context.runTag, scenario, connections),
      )
    }
  })
}

/** alloc-1 on a package that already has `bigRowCount` rows, written before the server starts. */
export async function runBigScenario(context: BenchContext): Promise<void> {
  if (!context.options.scenarios.includes('alloc-1-big')) return
  const database = join(context.workDir, 'big.sqlite3')
  const rowCount = context.options.bigRowCount
  context.log(`writing ${rowCount} rows into ${database}`)
  const startedMs = performance.now()
  createBigDatabase(database, rowCount)
  context.log(`database written in ${(performance.now() - startedMs).toFixed(0)} ms`)
  await withServer(context, 'big', database, async (server) => {
    await runAtEveryCount(context, server, 'alloc-1-big', () => [BIG_PACKAGE_VERSION])
  })
}

async function runAtEveryCount(
  context: BenchContext,
  server: ServerProcess,
  scenario: ScenarioName,
  allocVersionsFor: (connections: number) => readonly string[],
): Promise<void> {
  const { options } = context
  for (const connectionCount of options.connectionCounts) {
    context.log(`${scenario} at ${connectionCount} connections`)
    const result = await runScenario(context.pool, server, {
      scenario,
      connectionCount,
      allocVersions: allocVersionsFor(connectionCount),
      lookupPackageCount: options.lookupPackageCount,
      warmupMs: options.warmupMs,
      durationMs: options.durationMs,
      requestTimeoutMs: options.requestTimeoutMs,
    })
    context.results.push(result)
  }
}
