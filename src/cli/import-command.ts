/**
 * `prserv import FILE`: reads a `bitbake-prserv-tool` file or JSON (detected, or `--format`)
 * and stores its rows into a running server (`--server`, `import-one` per row) or a database
 * (`--database`, in transactions of many rows). Prints a summary; any unusable or refused row
 * makes the exit status non-zero.
 */
import { createReadStream } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { ConfigError } from '../protocol/errors.js'
import { isPrFileFormat } from '../services/prserv/pr-file-format.js'
import type { PrFileFormat, PrFileProblem } from '../services/prserv/pr-file-format.js'
import { parseDataTarget } from './data-target.js'
import type { DataTarget } from './data-target.js'
import { ImportSource } from './import-source.js'
import type { RowFilter } from './import-source.js'
import {
  IMPORT_BATCH_ROWS,
  IMPORT_WIRE_BATCH_ROWS,
  importIntoDatabase,
  importOverWire,
} from './import-targets.js'
import type { FailedRow } from './import-targets.js'
import { EXIT_INCOMPLETE, readFilterFlags } from './tool-env.js'
import type { ToolCommandEnv } from './tool-env.js'

/** Most problems and failed rows listed on stderr; the summary counts them all. */
export const MAX_LISTED_FAILURES = 20

/** The printed (and `--json`) summary of an import. */
export interface ImportReport {
  readonly file: string
  readonly format: PrFileFormat
  readonly target: DataTarget['kind']
  /** Importable rows in the file. */
  readonly read: number
  /** Rows left out by `--version`, `--pkgarch` or `--checksum`. */
  readonly filteredOut: number
  /** Rows the target took (over the wire: acknowledged by the server). */
  readonly accepted: number
  /** Rows stored / already present (`--database` only; null over the wire). */
  readonly written: number | null
  readonly skipped: number | null
  /** Lines or rows of the file that cannot be imported. */
  readonly problems: readonly PrFileProblem[]
  /** Rows the server refused. */
  readonly failed: readonly FailedRow[]
}

/** What `runImport` needs. `file` is a path or `-` for stdin; format `auto` detects it. */
export interface ImportOptions {
  readonly target: DataTarget
  readonly file: string
  readonly format: PrFileFormat | 'auto'
  readonly filter: RowFilter
}

/**
 * Reads, parses, filters and stores, a batch of rows at a time; returns the report (the
 * caller decides the exit).
 */
export async function runImport(
  options: ImportOptions,
  env: ToolCommandEnv,
): Promise<ImportReport> {
  const text =
    options.file === '-'
      ? env.stdin()
      : createReadStream(resolve(env.cwd, options.file), { encoding: 'utf8' })
  // Text streams iterate strings (boundary: Node.js types the chunks as any).
  const source = await ImportSource.open(
    text as AsyncIterable<string>,
    options.format,
    options.filter,
  )
  const { target } = options
  const batches = source.batches(
    target.kind === 'server' ? IMPORT_WIRE_BATCH_ROWS : IMPORT_BATCH_ROWS,
  )
  const outcome =
    target.kind === 'server'
      ? await importOverWire(target.address, batches)
      : await importIntoDatabase(target.storage, batches)
  return {
    file: options.file,
    format: source.format,
    target: target.kind,
    read: source.read,
    filteredOut: source.filteredOut,
    ...outcome,
    problems: source.problems,
  }
}

/** Whether every row of the file was usable and accepted. */
export function isCompleteImport(report: ImportReport): boolean {
  return report.problems.length === 0 && report.failed.length === 0
}

/** The summary as text. */
export function formatImportReport(report: ImportReport): string {
  const stored =
    report.written === null
      ? `${report.accepted} accepted by the server`
      : `${report.written} written, ${report.skipped ?? 0} already present`
  const lines = [
    `imported ${report.file} (${report.format}) into the ${report.target}`,
    `rows read:    ${report.read} (${report.filteredOut} filtered out)`,
    `stored:       ${stored}`,
    `unusable:     ${report.problems.length}`,
    `failed:       ${report.failed.length}`,
  ]
  return `${lines.join('\n')}\n`
}

/** Problem and failure details for stderr, at most MAX_LISTED_FAILURES of them. */
export function formatImportFailures(report: ImportReport): string {
  const details = [
    ...report.problems.map((problem) => `${problem.where}: ${problem.message}`),
    ...report.failed.map(({ row, message }) => {
      const { version, pkgarch, checksum, value } = row
      return `PRAUTO$${version}$${pkgarch}$${checksum} = "${value}": ${message}`
    }),
  ]
  const listed = details.slice(0, MAX_LISTED_FAILURES).map((line) => `prserv import: ${line}\n`)
  const more = details.length - listed.length
  return listed.join('') + (more > 0 ? `prserv import: … and ${more} more\n` : '')
}

function readImportFormat(raw: unknown): PrFileFormat | 'auto' {
  if (raw === undefined || raw === 'auto') return 'auto'
  if (typeof raw === 'string' && isPrFileFormat(raw)) return raw
  throw new ConfigError(
    `Invalid format ${JSON.stringify(raw)} from --format: expected auto, prserv-tool or json`,
  )
}

const IMPORT_HELP =
  '\nEvery PRAUTO$<version>$<pkgarch>$<checksum> = "<value>" line is a row; dotted values\n' +
  'are imported too. Rows without an audit trail are recorded as stored now.\n' +
  'Exit status: 0 every row stored, 1 some row unusable or refused (or a failure),\n' +
  '2 bad usage.\n' +
  '\nExamples:\n' +
  '  prserv import --server 127.0.0.1:8585 prserv.inc\n' +
  '  prserv import --database postgres://prserv@db/prserv rows.json\n'

/** Adds `import` to the program. */
export function registerImportCommand(program: Command, env: ToolCommandEnv): void {
  const command = program
    .command('import')
    .description(
      'store the PRAUTO rows of a bitbake-prserv-tool file or a JSON export (- for stdin) ' +
        'into a server or a database; exits 1 if any row is unusable or refused',
    )
    .argument('<file>', 'input file; - reads stdin')
    .option('-s, --server <addr>', 'import into this running server (import-one per row)')
    .option('-d, --database <path|url>', 'import into this SQLite file or postgres:// database')
    .option('--format <format>', 'auto (default: JSON if it starts with [ or {), prserv-tool, json')
    .option('--version <version>', 'only rows of this version')
    .option('--pkgarch <pkgarch>', 'only rows of this package architecture')
    .option('--checksum <checksum>', 'only rows of this checksum')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', IMPORT_HELP)
  command.action(async (file: string) => {
    const opts = command.opts<Record<string, unknown>>()
    const options: ImportOptions = {
      target: parseDataTarget(opts, env.cwd),
      file,
      format: readImportFormat(opts.format),
      filter: readFilterFlags(opts),
    }
    const report = await runImport(options, env)
    env.stderr.write(formatImportFailures(report))
    env.stdout(opts.json === true ? `${JSON.stringify(report)}\n` : formatImportReport(report))
    if (!isCompleteImport(report)) env.setExitCode(EXIT_INCOMPLETE)
  })
}
