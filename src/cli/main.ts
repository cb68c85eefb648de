#!/usr/bin/env node
/**
 * The `prserv` command: argv to subcommand. The only module that touches process.argv,
 * process.env, signals and exit codes.
 */
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { parseServerFlags } from '../config/config-flags.js'
import { SERVER_OPTIONS } from '../config/config-options.js'
import { loadServerConfig } from '../config/load-config.js'
import { RpcError } from '../protocol/errors.js'
import { createLogger } from '../observability/logger.js'
import { addOptions } from './cli-options.js'
import { registerClientCommand } from './client-command.js'
import { registerExportCommand } from './export-command.js'
import { registerImportCommand } from './import-command.js'
import { registerMigrateCommand } from './migrate-command.js'
import { startServer } from './server-command.js'
import type { ToolCommandEnv } from './tool-env.js'

/** Exit status for a failure at run time (connection, server error). */
const EXIT_FAILURE = 1
/** Exit status for bad usage or configuration. */
const EXIT_USAGE = 2

function readTextFile(path: string): string {
  return readFileSync(path, 'utf8')
}

async function runServer(opts: Readonly<Record<string, unknown>>): Promise<void> {
  const config = loadServerConfig({
    flags: parseServerFlags(opts),
    env: process.env,
    readFile: readTextFile,
    cwd: process.cwd(),
  })
  const logger = createLogger(config.logLevel)
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection')
    process.exit(EXIT_FAILURE)
  })
  const handle = await startServer(config, { logger }).catch((err: unknown) => {
    logger.fatal({ err }, 'startup failed')
    throw err
  })
  let signalCount = 0
  const onSignal = (signal: NodeJS.Signals): void => {
    signalCount += 1
    if (signalCount > 1) {
      logger.warn({ signal }, 'second signal: exiting at once')
      process.exit(EXIT_FAILURE)
    }
    logger.info({ signal }, 'shutting down')
    handle.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(EXIT_FAILURE)
      },
    )
  }
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.on(signal, onSignal)
}

function buildProgram(stdout: (text: string) => void): Command {
  const program = new Command('prserv')
    .description('BitBake-compatible PR server and client')
    .version(readPackageVersion())
    .exitOverride()
  const server = program
    .command('server')
    .description('run the PR server in the foreground (stop with SIGTERM or Ctrl-C)')
  addOptions(server, SERVER_OPTIONS)
  server.action(async () => {
    await runServer(server.opts())
  })
  registerClientCommand(program, {
    env: process.env,
    readFile: readTextFile,
    cwd: process.cwd(),
    stdout,
  })
  const toolEnv: ToolCommandEnv = {
    cwd: process.cwd(),
    stdout,
    stderr: process.stderr,
    stdin: readStdin,
    setExitCode: (code) => {
      process.exitCode = code
    },
  }
  registerExportCommand(program, toolEnv)
  registerImportCommand(program, toolEnv)
  registerMigrateCommand(program, toolEnv)
  // `--version` after a subcommand is its filter (`export --version V`), not the program's
  // version flag. Set after the subcommands exist, so that they do not inherit it.
  program.enablePositionalOptions()
  return program
}

async function* readStdin(): AsyncGenerator<string> {
  // Decoded as UTF-8 across chunk boundaries.
  process.stdin.setEncoding('utf8')
  for await (const chunk of process.stdin) yield String(chunk)
}

function readPackageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8')
  const parsed: unknown = JSON.parse(text)
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed) {
    return String(parsed.version)
  }
  return 'unknown'
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE
  const message = err instanceof Error ? err.message : String(err)
  process.stderr.write(`prserv: ${message}\n`)
  if (err instanceof RpcError && err.code === 'config_error') return EXIT_USAGE
  return EXIT_FAILURE
}

async function main(): Promise<void> {
  const program = buildProgram((text) => process.stdout.write(text))
  try {
    await program.parseAsync(process.argv)
  } catch (err: unknown) {
    process.exitCode = reportError(err)
  }
}

await main()
