// Results: one row per measured run, the machine description, and the printed report.
import { availableParallelism, cpus, totalmem } from 'node:os'
import { formatNumber } from './format-number.js'
import { formatRatio, type RatioResult } from './ratios.js'

/** One measured row of the table. */
export interface ScenarioResult {
  /** Scenario name, or a PostgreSQL label such as `pg raw-insert`. */
  readonly scenario: string
  readonly connections: number
  /** Successful requests completed inside the measuring window. */
  readonly requests: number
  readonly reqPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
  /** CPU used by the server's processes during the window, in percent of one core. */
  readonly serverCpuPercent: number
  /** CPU used by the load generator during the window, in percent of one core. */
  readonly generatorCpuPercent: number
  /** CPU used by everything else on the machine during the window: noise if well above 0. */
  readonly otherCpuPercent: number
  /** CPU the hypervisor gave other guests during the window (part of `otherCpuPercent`). */
  readonly stealCpuPercent: number
  /** Allocation consistency check (`ok N`, `MISMATCH …`), or `-` when nothing was allocated. */
  readonly check: string
  readonly errorSamples: readonly string[]
}

/** The machine, as RESULTS.md records it. */
export interface MachineInfo {
  readonly nproc: number
  readonly cpuModel: string
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
}

export function describeMachine(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}

const COLUMNS = [
  'scenario',
  'conns',
  'requests',
  'req/s',
  'p50 ms',
  'p99 ms',
  'errors',
  'srv cpu%',
  'gen cpu%',
  'other%',
  'steal%',
  'check',
]

/** The human-readable report: results table, ratios, and the first error samples. */
export function formatReport(
  machine: MachineInfo,
  results: readonly ScenarioResult[],
  ratios: readonly RatioResult[],
): string {
  const rows = results.map((r) => [
    r.scenario,
    String(r.connections),
    String(r.requests),
    formatNumber(r.reqPerSec, 0),
    formatNumber(r.p50Ms, 3),
    formatNumber(r.p99Ms, 3),
    String(r.errors),
    formatNumber(r.serverCpuPercent, 0),
    formatNumber(r.generatorCpuPercent, 0),
    // Sampling skew can make a near-zero rest slightly negative.
    formatNumber(Math.max(0, r.otherCpuPercent), 0),
    formatNumber(Math.max(0, r.stealCpuPercent), 0),
    r.check,
  ])
  const lines = [
    `machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}, ${machine.platform}`,
    '',
    ...(rows.length === 0 ? ['(no results)'] : formatColumns([COLUMNS, ...rows])),
  ]
  if (ratios.length > 0) lines.push('', 'targets:', ...ratios.map(formatRatio))
  const failing = results.filter((r) => r.errorSamples.length > 0)
  for (const r of failing) {
    lines.push('', `errors in ${r.scenario} at ${r.connections} connections (first few):`)
    lines.push(...r.errorSamples.map((sample) => `  ${sample}`))
  }
  return lines.join('\n')
}

/** Left-aligns the first column and right-aligns the others. */
function formatColumns(table: readonly (readonly string[])[]): string[] {
  const widths = COLUMNS.map((_, column) =>
    Math.max(...table.map((row) => (row[column] ?? '').length)),
  )
  return table.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0
        return column === 0 || column === row.length - 1 ? cell.padEnd(width) : cell.padStart(width)
      })
      .join('  ')
      .trimEnd(),
  )
}
