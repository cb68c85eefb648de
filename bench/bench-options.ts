// Command-line flags of `npm run bench`: parsing, defaults, validation and help text.
import { parseArgs } from 'node:util'
import { SCENARIO_NAMES, isScenarioName, type ScenarioName } from './scenarios.js'

/** The server command run when `--server-cmd` is absent: our CLI through the tsx loader. */
export const DEFAULT_SERVER_CMD =
  'node --import tsx src/cli/main.ts server --database {database} --bind {bind}'
export const DEFAULT_CONNECTION_COUNTS: readonly number[] = [1, 8, 64]
export const DEFAULT_DURATION_MS = 5_000
export const DEFAULT_WARMUP_MS = 1_000
export const DEFAULT_LOAD_PROCESSES = 1
export const DEFAULT_BIG_ROW_COUNT = 1_000_000
export const DEFAULT_LOOKUP_PACKAGE_COUNT = 1_000
/** Alternating rounds of `pg raw-insert` and `pg alloc-64` (their ratio is the target). */
export const DEFAULT_POSTGRES_ROUNDS = 3
export const DEFAULT_READY_TIMEOUT_MS = 180_000
/** BitBake's client gives up on a request after 30 s; so does the generator. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** Validated bench options; every duration is in milliseconds. */
export interface BenchOptions {
  readonly scenarios: readonly ScenarioName[]
  readonly connectionCounts: readonly number[]
  readonly durationMs: number
  readonly warmupMs: number
  /** Shell command template; `{database}`, `{bind}`, `{host}` and `{port}` are substituted. */
  readonly serverCmd: string
  readonly isJson: boolean
  readonly hasPostgres: boolean
  readonly postgresRounds: number
  readonly loadProcesses: number
  readonly bigRowCount: number
  readonly lookupPackageCount: number
  readonly readyTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly isKeepTemp: boolean
  /** Admin URL of an existing PostgreSQL (env PRSERV_TEST_DATABASE_URL), or null for embedded. */
  readonly externalPostgresUrl: string | null
}

export type ParsedCommand = { kind: 'help' } | { kind: 'run'; options: BenchOptions }

/** Thrown for a bad flag value; the message names the flag and the value. */
export class BenchUsageError extends Error {
  override name = 'BenchUsageError'
}

export const HELP_TEXT = `Usage: npm run bench -- [options]

Load generator for the PR server over the wire (BitBake's asyncrpc protocol).
Starts the server under test as a child process on a temporary database.

Options:
  --scenarios LIST       comma-separated, from: ${SCENARIO_NAMES.join(', ')}
                         (default: all)
  --connections LIST     client connection counts (default: ${DEFAULT_CONNECTION_COUNTS.join(',')})
  --duration-ms N        measuring window per scenario and count (default: ${DEFAULT_DURATION_MS})
  --warmup-ms N          warm-up before each window, not measured (default: ${DEFAULT_WARMUP_MS})
  --server-cmd CMD       shell command starting the server in the foreground; placeholders
                         {database} {bind} {host} {port} (default:
                         ${DEFAULT_SERVER_CMD})
  --load-processes N     processes generating load (default: ${DEFAULT_LOAD_PROCESSES}; see bench/README.md)
  --big-rows N           rows pre-loaded for alloc-1-big (default: ${DEFAULT_BIG_ROW_COUNT})
  --lookup-packages N    packages pre-populated for lookup/mixed (default: ${DEFAULT_LOOKUP_PACKAGE_COUNT})
  --ready-timeout-ms N   how long the server may take to answer after start (default: ${DEFAULT_READY_TIMEOUT_MS})
  --request-timeout-ms N a request unanswered this long is an error (default: ${DEFAULT_REQUEST_TIMEOUT_MS})
  --postgres             also run the PostgreSQL benchmark (PRSERV_TEST_DATABASE_URL or an
                         embedded throwaway PostgreSQL)
  --pg-rounds N          rounds of pg raw-insert and pg alloc-64, alternated (default: ${DEFAULT_POSTGRES_ROUNDS})
  --json                 print one JSON document on stdout instead of the table
  --keep-temp            keep the temporary directory (databases, server logs)
  -h, --help             show this help
`

/** Parses `argv` (without node and script) and `env` into a command; throws BenchUsageError. */
export function parseBenchArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedCommand {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      scenarios: { type: 'string' },
      connections: { type: 'string' },
      'duration-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      'server-cmd': { type: 'string' },
      'load-processes': { type: 'string' },
      'big-rows': { type: 'string' },
      'lookup-packages': { type: 'string' },
      'ready-timeout-ms': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
      postgres: { type: 'boolean', default: false },
      'pg-rounds': { type: 'string' },
      json: { type: 'boolean', default: false },
      'keep-temp': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return { kind: 'help' }
  const options: BenchOptions = {
    scenarios: parseScenarioList(values.scenarios),
    connectionCounts: parseCountList('--connections', values.connections),
    durationMs: parseCount('--duration-ms', values['duration-ms'], DEFAULT_DURATION_MS),
    warmupMs: parseCount('--warmup-ms', values['warmup-ms'], DEFAULT_WARMUP_MS, 0),
    serverCmd: values['server-cmd'] ?? DEFAULT_SERVER_CMD,
    isJson: values.json,
    hasPostgres: values.postgres,
    postgresRounds: parseCount('--pg-rounds', values['pg-rounds'], DEFAULT_POSTGRES_ROUNDS),
    loadProcesses: parseCount('--load-processes', values['load-processes'], DEFAULT_LOAD_PROCESSES),
    bigRowCount: parseCount('--big-rows', values['big-rows'], DEFAULT_BIG_ROW_COUNT),
    lookupPackageCount: parseCount(
      '--lookup-packages',
      values['lookup-packages'],
      DEFAULT_LOOKUP_PACKAGE_COUNT,
    ),
    readyTimeoutMs: parseCount(
      '--ready-timeout-ms',
      values['ready-timeout-ms'],
      DEFAULT_READY_TIMEOUT_MS,
    ),
    requestTimeoutMs: parseCount(
      '--request-timeout-ms',
      values['request-timeout-ms'],
      DEFAULT_REQUEST_TIMEOUT_MS,
    ),
    isKeepTemp: values['keep-temp'],
    externalPostgresUrl: env.PRSERV_TEST_DATABASE_URL ?? null,
  }
  return { kind: 'run', options }
}

function parseScenarioList(raw: string | undefined): readonly ScenarioName[] {
  if (raw === undefined) return SCENARIO_NAMES
  const names = splitList(raw)
  const unknown = names.filter((name) => !isScenarioName(name))
  if (unknown.length > 0 || names.length === 0) {
    throw new BenchUsageError(`--scenarios: unknown scenario in '${raw}'`)
  }
  return SCENARIO_NAMES.filter((name) => names.includes(name))
}

function parseCountList(flag: string, raw: string | undefined): readonly number[] {
  if (raw === undefined) return DEFAULT_CONNECTION_COUNTS
  const counts = splitList(raw).map((part) => parseCount(flag, part, 0))
  if (counts.length === 0) throw new BenchUsageError(`${flag}: empty list`)
  return [...new Set(counts)].sort((a, b) => a - b)
}

export function parseCount(
  flag: string,
  raw: string | undefined,
  fallback: number,
  minimum = 1,
): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < minimum || !/^\d+$/.test(raw.trim())) {
    throw new BenchUsageError(`${flag}: expected an integer >= ${minimum}, got '${raw}'`)
  }
  return value
}

function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
}
