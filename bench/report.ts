// Results: the table, the target ratios (issues 2 §7 and 3 §2) and the JSON document.
import { availableParallelism, cpus, totalmem } from 'node:os'

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
  /** Allocation consistency check (`ok N`, `MISMATCH …`), or `-` when nothing was allocated. */
  readonly check: string
  readonly errorSamples: readonly string[]
}

/** A target from the issues, computed from rows measured in the same run. */
interface RatioDefinition {
  readonly name: string
  readonly numerator: string
  /** null: the target is an absolute rate of the numerator in req/s. */
  readonly denominator: string | null
  readonly target: number
  readonly source: string
}

export interface RatioResult extends RatioDefinition {
  readonly connections: number
  readonly value: number
  readonly isMet: boolean
}

/** Connection count the targets are stated at; the largest common count is used otherwise. */
const TARGET_CONNECTIONS = 64

const RATIO_DEFINITIONS: readonly RatioDefinition[] = [
  {
    name: 'lookup / ping',
    numerator: 'lookup',
    denominator: 'ping',
    target: 0.8,
    source: 'issue 2 §7',
  },
  {
    name: 'alloc-1 req/s',
    numerator: 'alloc-1',
    denominator: null,
    target: 8000,
    source: 'issue 2 §7',
  },
  {
    name: 'alloc-1-big / alloc-1',
    numerator: 'alloc-1-big',
    denominator: 'alloc-1',
    target: 0.8,
    source: 'issue 2 §7',
  },
  {
    name: 'pg alloc-64 / raw insert',
    numerator: 'pg alloc-64',
    denominator: 'pg raw-insert',
    target: 1.0,
    source: 'issue 3 §2',
  },
  {
    name: 'pg alloc-1 / plain design',
    numerator: 'pg alloc-1',
    denominator: 'pg plain-alloc-1',
    target: 3.0,
    source: 'issue 3 §2',
  },
]

/** Every ratio whose rows were measured, at 64 connections or the largest common count. */
export function computeRatios(results: readonly ScenarioResult[]): RatioResult[] {
  const ratios: RatioResult[] = []
  for (const definition of RATIO_DEFINITIONS) {
    const counts = commonConnectionCounts(results, definition)
    const connections = counts.includes(TARGET_CONNECTIONS) ? TARGET_CONNECTIONS : counts.at(-1)
    if (connections === undefined) continue
    const numerator = findRate(results, definition.numerator, connections)
    const denominator =
      definition.denominator === null ? 1 : findRate(results, definition.denominator, connections)
    const value = numerator / denominator
    ratios.push({ ...definition, connections, value, isMet: value >= definition.target })
  }
  return ratios
}

function commonConnectionCounts(
  results: readonly ScenarioResult[],
  definition: RatioDefinition,
): number[] {
  const countsOf = (scenario: string): number[] =>
    results.filter((row) => row.scenario === scenario).map((row) => row.connections)
  const numeratorCounts = countsOf(definition.numerator)
  const denominator = definition.denominator
  const counts =
    denominator === null
      ? numeratorCounts
      : numeratorCounts.filter((count) => countsOf(denominator).includes(count))
  return counts.sort((a, b) => a - b)
}

function findRate(
  results: readonly ScenarioResult[],
  scenario: string,
  connections: number,
): number {
  const row = results.find((r) => r.scenario === scenario && r.connections === connections)
  return row?.reqPerSec ?? Number.NaN
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
    formatNumber(r.otherCpuPercent, 0),
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

/** Fixed decimals, or `-` for a value that was not measured. */
function formatNumber(value: number, fractionDigits: number): string {
  return Number.isFinite(value) ? value.toFixed(fractionDigits) : '-'
}

function formatRatio(ratio: RatioResult): string {
  const value = formatNumber(ratio.value, ratio.denominator === null ? 0 : 2)
  const target = ratio.denominator === null ? `>= ${ratio.target}` : `>= ${ratio.target.toFixed(1)}`
  const verdict = ratio.isMet ? 'met' : 'NOT met'
  return `  ${ratio.name.padEnd(28)} ${value.padStart(8)}  (target ${target}, at ${ratio.connections} connections, ${ratio.source}): ${verdict}`
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
