// Runs one scenario at one connection count against a started server, and checks afterwards
// that every acknowledged allocation is reflected in the packages' maxima.
import type { LoadPool } from './load-pool.js'
import { summarizeLatencies } from './load-stats.js'
import { readMachineCpu } from './process-cpu.js'
import type { ScenarioResult } from './report.js'
import { SCENARIOS, type RunSpec, type ScenarioName } from './scenarios.js'
import type { ServerProcess } from './server-process.js'
import { readPackageMaxima } from './wire-setup.js'

export interface ScenarioRunOptions {
  readonly scenario: ScenarioName
  readonly connectionCount: number
  /** Packages to allocate on; empty for a scenario that never allocates. */
  readonly allocVersions: readonly string[]
  readonly lookupPackageCount: number
  readonly warmupMs: number
  readonly durationMs: number
  readonly requestTimeoutMs: number
  /** Label for the table (defaults to the scenario name). */
  readonly label?: string
}

/** Fresh package names for one run, so runs never see each other's rows. */
export function formatAllocVersions(
  runTag: string,
  scenario: ScenarioName,
  connectionCount: number,
): string[] {
  const { allocPackageCount } = SCENARIOS[scenario]
  return Array.from(
    { length: allocPackageCount },
    (_, i) => `bench-${runTag}-${scenario}-c${connectionCount}-p${i}-1.0-r0`,
  )
}

export async function runScenario(
  pool: LoadPool,
  server: ServerProcess,
  options: ScenarioRunOptions,
): Promise<ScenarioResult> {
  const { host, port } = server
  const maximaBefore = await readPackageMaxima(host, port, options.allocVersions)
  const spec: RunSpec = {
    scenario: options.scenario,
    allocVersions: options.allocVersions,
    lookupPackageCount: options.lookupPackageCount,
  }
  const startCpu = { serverMs: Number.NaN, machineMs: Number.NaN, stealMs: Number.NaN }
  const endCpu = { serverMs: Number.NaN, machineMs: Number.NaN, stealMs: Number.NaN }
  const sampleCpu = (sample: { serverMs: number; machineMs: number; stealMs: number }): void => {
    sample.serverMs = server.readCpuMs()
    const machine = readMachineCpu()
    sample.machineMs = machine.busyMs
    sample.stealMs = machine.stealMs
  }
  const results = await pool.run({
    host,
    port,
    spec,
    connectionCount: options.connectionCount,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    requestTimeoutMs: options.requestTimeoutMs,
    onWindow: (warmupEndEpochMs, measureEndEpochMs) => {
      setTimeout(sampleCpu, warmupEndEpochMs - Date.now(), startCpu)
      setTimeout(sampleCpu, measureEndEpochMs - Date.now(), endCpu)
    },
  })
  const requests = sum(results.map((result) => result.measuredCount))
  const errors = sum(results.map((result) => result.errorCount))
  const allocOkCount = sum(results.map((result) => result.allocOkCount))
  const maximaAfter = await readPackageMaxima(host, port, options.allocVersions)
  const growth = sum(maximaAfter.map((after, i) => after - (maximaBefore[i] ?? -1)))
  const serverCpuMs = endCpu.serverMs - startCpu.serverMs
  const generatorCpuMs = sum(results.map((result) => result.cpuMs))
  const machineCpuMs = endCpu.machineMs - startCpu.machineMs
  const latency = summarizeLatencies(results.map((result) => result.latenciesMs))
  return {
    scenario: options.label ?? options.scenario,
    connections: options.connectionCount,
    requests,
    reqPerSec: requests / (options.durationMs / 1000),
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    errors,
    serverCpuPercent: toPercent(serverCpuMs, options.durationMs),
    generatorCpuPercent: toPercent(generatorCpuMs, options.durationMs),
    otherCpuPercent: toPercent(machineCpuMs - serverCpuMs - generatorCpuMs, options.durationMs),
    stealCpuPercent: toPercent(endCpu.stealMs - startCpu.stealMs, options.durationMs),
    check: checkAllocations(options.allocVersions.length, errors, allocOkCount, growth),
    errorSamples: results.flatMap((result) => result.errorSamples),
  }
}

/**
 * Each acknowledged allocation on a package with a new checksum must raise that package's
 * maximum by exactly one: fewer means a value was handed out twice or lost, more means a
 * value was stored but never acknowledged.
 */
function checkAllocations(
  packageCount: number,
  errors: number,
  allocOkCount: number,
  growth: number,
): string {
  if (packageCount === 0) return '-'
  if (growth === allocOkCount) return `ok ${allocOkCount}`
  // A request that failed may still have been stored, so only an error-free run is exact.
  const verdict = errors === 0 ? 'MISMATCH' : 'unsure'
  return `${verdict} acked ${allocOkCount} max+${growth}`
}

/** CPU time over a window as percent of one core (200 = two cores busy). */
function toPercent(cpuMs: number, windowMs: number): number {
  return (cpuMs / windowMs) * 100
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0)
}
