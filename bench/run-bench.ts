// `npm run bench`: starts the server under test, drives it over the wire, prints the results.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BenchContext } from './bench-context.js'
import { runBenchMain } from './bench-main.js'
import { HELP_TEXT, parseBenchArgs, type BenchOptions } from './bench-options.js'
import { describeError } from './describe-error.js'
import { LoadPool } from './load-pool.js'
import { runPostgresBench } from './postgres-bench.js'
import { computeRatios } from './ratios.js'
import { describeMachine, formatReport } from './report.js'
import { runBigScenario, runSharedScenarios } from './sqlite-bench.js'

async function runBench(options: BenchOptions): Promise<number> {
  const workDir = await mkdtemp(join(tmpdir(), 'prserv-bench-'))
  const context: BenchContext = {
    options,
    pool: LoadPool.start(options.loadProcesses),
    workDir,
    runTag: randomBytes(4).toString('hex'),
    results: [],
    log: (message) => process.stderr.write(`bench: ${message}\n`),
  }
  const parts = [runSharedScenarios, runBigScenario, runPostgresBench]
  let hasFailed = false
  try {
    for (const part of parts) {
      try {
        await part(context)
      } catch (error: unknown) {
        // A failing part (e.g. a server that does not start) must not hide the others' rows.
        hasFailed = true
        context.log(`FAILED: ${describeError(error)}`)
      }
    }
  } finally {
    await context.pool.close()
    if (options.isKeepTemp || hasFailed) context.log(`temporary files kept in ${workDir}`)
    else await rm(workDir, { recursive: true, force: true })
  }
  printReport(context)
  return hasFailed ? 1 : 0
}

function printReport(context: BenchContext): void {
  const machine = describeMachine()
  const ratios = computeRatios(context.results)
  if (context.options.isJson) {
    // The PostgreSQL URL may hold a password: report only whether one was given.
    const options = {
      ...context.options,
      externalPostgresUrl: context.options.externalPostgresUrl && '(set)',
    }
    const document = { machine, options, results: context.results, ratios }
    process.stdout.write(JSON.stringify(document, null, 2) + '\n')
  } else {
    process.stdout.write(formatReport(machine, context.results, ratios) + '\n')
  }
}

runBenchMain({
  name: 'bench',
  script: 'bench',
  helpText: HELP_TEXT,
  parse: (argv) => {
    const command = parseBenchArgs(argv, process.env)
    return command.kind === 'help' ? null : command.options
  },
  run: runBench,
})
