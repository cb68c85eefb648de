// The targets of issue 2 §7 and issue 3 §2 as ratios of rows measured in the same run.
import { formatNumber } from './format-number.js'
import type { ScenarioResult } from './report.js'

/** Above this `other%` in a row, a ratio using it is flagged as measured on a busy machine. */
const NOISY_OTHER_CPU_PERCENT = 20
/** Above this `steal%` in a row (any row), a ratio using it is flagged: the host was busy. */
const NOISY_STEAL_CPU_PERCENT = 10

/** A target from the issues, computed from rows measured in the same run. */
interface RatioDefinition {
  readonly name: string
  /** Whether `other%` of its rows tells contamination (not for PostgreSQL rows, where it includes PostgreSQL). */
  readonly isNoiseVisible: boolean
  readonly numerator: string
  /** null: the target is an absolute rate of the numerator in req/s. */
  readonly denominator: string | null
  /** null: context for reading another ratio, not a target of the issues. */
  readonly target: number | null
  readonly source: string
}

export interface RatioResult extends RatioDefinition {
  readonly connections: number
  /**
   * Mean numerator rate over mean denominator rate. A scenario measured several times (the
   * alternating PostgreSQL rounds) contributes every row it has at that connection count.
   */
  readonly value: number
  /** With several rows on each side: the ratio of each pair of rows, in measuring order. */
  readonly roundValues: readonly number[]
  readonly isMet: boolean
  /** Largest `other%` of the rows used: CPU taken by other work on the machine. */
  readonly otherCpuPercent: number
  /** Largest `steal%` of the rows used: CPU the hypervisor gave to other guests. */
  readonly stealCpuPercent: number
}

/** Connection count the targets are stated at; the largest common count is used otherwise. */
const TARGET_CONNECTIONS = 64

const RATIO_DEFINITIONS: readonly RatioDefinition[] = [
  {
    name: 'lookup / ping',
    isNoiseVisible: true,
    numerator: 'lookup',
    denominator: 'ping',
    target: 0.8,
    source: 'issue 2 §7',
  },
  {
    name: 'alloc-1 req/s',
    isNoiseVisible: true,
    numerator: 'alloc-1',
    denominator: null,
    target: 8000,
    source: 'issue 2 §7',
  },
  {
    name: 'alloc-1-big / alloc-1',
    isNoiseVisible: true,
    numerator: 'alloc-1-big',
    denominator: 'alloc-1',
    target: 0.8,
    source: 'issue 2 §7',
  },
  {
    name: 'pg alloc-64 / raw insert',
    isNoiseVisible: false,
    numerator: 'pg alloc-64',
    denominator: 'pg raw-insert',
    target: 1.0,
    source: 'issue 3 §2',
  },
  {
    name: 'pg alloc-64 / prmain insert',
    isNoiseVisible: false,
    numerator: 'pg alloc-64',
    denominator: 'pg raw-insert-prmain',
    target: null,
    source: 'context for the line above',
  },
  {
    name: 'pg alloc-1 / plain design',
    isNoiseVisible: false,
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
    const numerators = findRows(results, definition.numerator, connections)
    const denominators =
      definition.denominator === null ? [] : findRows(results, definition.denominator, connections)
    const numeratorRate = meanRate(numerators)
    const value =
      definition.denominator === null ? numeratorRate : numeratorRate / meanRate(denominators)
    const used = [...numerators, ...denominators]
    const otherCpuPercent = Math.max(0, ...used.map((row) => row.otherCpuPercent))
    const stealCpuPercent = Math.max(0, ...used.map((row) => row.stealCpuPercent))
    const rounds = Math.min(numerators.length, denominators.length)
    const roundValues =
      rounds < 2
        ? []
        : numerators
            .slice(0, rounds)
            .map((row, index) => row.reqPerSec / (denominators[index]?.reqPerSec ?? Number.NaN))
    ratios.push({
      ...definition,
      connections,
      value,
      roundValues,
      isMet: definition.target !== null && value >= definition.target,
      otherCpuPercent,
      stealCpuPercent,
    })
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

function findRows(
  results: readonly ScenarioResult[],
  scenario: string,
  connections: number,
): ScenarioResult[] {
  return results.filter((r) => r.scenario === scenario && r.connections === connections)
}

/** The mean of the rows' rates; NaN without rows. */
function meanRate(rows: readonly ScenarioResult[]): number {
  if (rows.length === 0) return Number.NaN
  return rows.reduce((sum, row) => sum + row.reqPerSec, 0) / rows.length
}

export function formatRatio(ratio: RatioResult): string {
  const value = formatNumber(ratio.value, ratio.denominator === null ? 0 : 2)
  if (ratio.target === null) {
    return `  ${ratio.name.padEnd(28)} ${value.padStart(8)}  (no target, at ${ratio.connections} connections, ${ratio.source})`
  }
  const target = ratio.denominator === null ? `>= ${ratio.target}` : `>= ${ratio.target.toFixed(1)}`
  const verdict = ratio.isMet ? 'met' : 'NOT met'
  return `  ${ratio.name.padEnd(28)} ${value.padStart(8)}  (target ${target}, at ${ratio.connections} connections, ${ratio.source}): ${verdict}${noiseOf(ratio)}${roundsOf(ratio)}`
}

/** The ratio of each round, when the rows were measured in alternating rounds. */
function roundsOf(ratio: RatioResult): string {
  if (ratio.roundValues.length === 0) return ''
  const values = ratio.roundValues.map((value) => formatNumber(value, 2)).join(', ')
  return `\n${' '.repeat(39)}rounds: ${values}`
}

/** Why a ratio may not be trusted: another workload on the machine, or on the host. */
function noiseOf(ratio: RatioResult): string {
  if (ratio.stealCpuPercent > NOISY_STEAL_CPU_PERCENT) {
    return ` (steal% up to ${ratio.stealCpuPercent.toFixed(0)}: the host was busy, repeat)`
  }
  if (ratio.isNoiseVisible && ratio.otherCpuPercent > NOISY_OTHER_CPU_PERCENT) {
    return ` (other% up to ${ratio.otherCpuPercent.toFixed(0)}: the machine was busy, repeat)`
  }
  return ''
}
