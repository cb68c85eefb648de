// `npm run bench:ab`: interleaved A/B runs of two or more server commands on one PostgreSQL.
// Each round plays one allocation scenario against every command in turn, each on a fresh
// database, so slow phases of a shared host hit every command alike; the summary compares the
// commands round by round.
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BENCH_HOST } from './bench-context.js'
import { runBenchMain } from './bench-main.js'
import {
  BenchUsageError,
  DEFAULT_READY_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_WARMUP_MS,
  parseCount,
} from './bench-options.js'
import { formatNumber } from './format-number.js'
import { LoadPool } from './load-pool.js'
import { startPostgresCluster } from './postgres-cluster.js'
import { formatAllocVersions, runScenario } from './scenario-runner.js'
import { ServerProcess } from './server-process.js'

const SCENARIOS = ['alloc-64', 'alloc-1'] as const
type AbScenario = (typeof SCENARIOS)[number]

const DEFAULT_ROUNDS = 4
const DEFAULT_CONNECTIONS = 64
const DEFAULT_AB_DURATION_MS = 4_000

const HELP_TEXT = `Usage: npm run bench:ab -- --server-cmd A --server-cmd B [options]

Interleaved A/B of server commands on one (embedded or PRSERV_TEST_DATABASE_URL) PostgreSQL:
each round runs the scenario once per command, in order, each on a fresh database.

Options:
  --server-cmd CMD     a server command (give it two or more times); placeholders
                       {database} {bind} {host} {port}, e.g.
                       "node old/dist/cli/main.js server --database {database} --bind {bind}"
  --rounds N           rounds (default: ${DEFAULT_ROUNDS})
  --scenario NAME      ${SCENARIOS.join(' or ')} (default: ${SCENARIOS[0]})
  --connections N      client connections (default: ${DEFAULT_CONNECTIONS})
  --duration-ms N      measuring window (default: ${DEFAULT_AB_DURATION_MS})
  --warmup-ms N        warm-up before the window (default: ${DEFAULT_WARMUP_MS})
  -h, --help           show this help
`

interface AbOptions {
  readonly serverCmds: readonly string[]
  readonly rounds: number
  readonly scenario: AbScenario
  readonly connections: number
  readonly durationMs: number
  readonly warmupMs: number
}

function parseAbArgs(argv: readonly string[]): AbOptions | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      'server-cmd': { type: 'string', multiple: true },
      rounds: { type: 'string' },
      scenario: { type: 'string' },
      connections: { type: 'string' },
      'duration-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return null
  const serverCmds = values['server-cmd'] ?? []
  if (serverCmds.length < 2) throw new BenchUsageError('--server-cmd: give at least two')
  const scenario = values.scenario ?? SCENARIOS[0]
  if (!SCENARIOS.some((name) => name === scenario)) {
    throw new BenchUsageError(`--scenario: expected ${SCENARIOS.join(' or ')}, got '${scenario}'`)
  }
  return {
    serverCmds,
    rounds: parseCount('--rounds', values.rounds, DEFAULT_ROUNDS),
    scenario: scenario as AbScenario,
    connections: parseCount('--connections', values.connections, DEFAULT_CONNECTIONS),
    durationMs: parseCount('--duration-ms', values['duration-ms'], DEFAULT_AB_DURATION_MS),
    warmupMs: parseCount('--warmup-ms', values['warmup-ms'], DEFAULT_WARMUP_MS, 0),
  }
}

/** A, B, C… for the commands, in the order given. */
function labelOf(index: number): string {
  return String.fromCharCode(0x41 + index)
}

async function runAb(options: AbOptions): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), 'prserv-bench-ab-'))
  const log = (line: string): void => {
    process.stderr.write(`bench:ab: ${line}\n`)
  }
  log(`temporary files in ${workDir}`)
  const cluster = await startPostgresCluster(
    process.env.PRSERV_TEST_DATABASE_URL ?? null,
    join(workDir, 'postgres.log'),
  )
  const pool = LoadPool.start(1)
  const rates: number[][] = options.serverCmds.map(() => [])
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const [index, commandTemplate] of options.serverCmds.entries()) {
        const label = labelOf(index)
        const tag = `ab${Date.now().toString(36)}r${round}${label.toLowerCase()}`
        const database = await cluster.createDatabase(`prserv_${tag}`)
        const server = await ServerProcess.start({
          commandTemplate,
          database,
          host: BENCH_HOST,
          logPath: join(workDir, `server-${label}.log`),
          readyTimeoutMs: DEFAULT_READY_TIMEOUT_MS,
        })
        try {
          const result = await runScenario(pool, server, {
            scenario: options.scenario,
            connectionCount: options.connections,
            allocVersions: formatAllocVersions(tag, options.scenario, options.connections),
            lookupPackageCount: 0,
            warmupMs: options.warmupMs,
            durationMs: options.durationMs,
            requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
          })
          rates[index]?.push(result.reqPerSec)
          const cpu = [
            `srv ${formatNumber(result.serverCpuPercent, 0)}%`,
            `gen ${formatNumber(result.generatorCpuPercent, 0)}%`,
            `other ${formatNumber(Math.max(0, result.otherCpuPercent), 0)}%`,
            `steal ${formatNumber(Math.max(0, result.stealCpuPercent), 0)}%`,
          ].join('  ')
          const rate = formatNumber(result.reqPerSec, 0).padStart(7)
          process.stdout.write(
            `round ${round + 1}  ${label}  ${rate} req/s  ${cpu}  ${result.check}\n`,
          )
        } finally {
          await server.stop()
        }
      }
    }
    process.stdout.write(`\n${formatSummary(rates)}\n`)
  } finally {
    await pool.close()
    await cluster.close()
  }
}

/** Each command's mean, and against A: the mean of per-round ratios and how many rounds won. */
function formatSummary(rates: readonly (readonly number[])[]): string {
  const baseline = rates[0] ?? []
  return rates
    .map((list, index) => {
      const mean = list.reduce((sum, rate) => sum + rate, 0) / list.length
      const line = `${labelOf(index)}  mean ${formatNumber(mean, 0)} req/s`
      if (index === 0) return line
      const ratios = list.map((rate, round) => rate / (baseline[round] ?? Number.NaN))
      const meanRatio = ratios.reduce((sum, ratio) => sum + ratio, 0) / ratios.length
      const wins = ratios.filter((ratio) => ratio > 1).length
      return `${line}  ${labelOf(index)}/A ${formatNumber(meanRatio, 2)} (faster in ${wins} of ${ratios.length} rounds)`
    })
    .join('\n')
}

runBenchMain({
  name: 'bench:ab',
  script: 'bench:ab',
  helpText: HELP_TEXT,
  parse: parseAbArgs,
  run: async (options) => {
    await runAb(options)
    return 0
  },
})
