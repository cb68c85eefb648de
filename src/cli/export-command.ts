/**
 * `prserv export FILE`: PR rows from a running server (`--server`, over the wire) or a
 * database (`--database`), written as a `bitbake-prserv-tool` file or JSON, atomically (or to
 * stdout with `-`).
 */
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { DEFAULT_CLIENT_TIMEOUT_MS } from '../config/config.js'
import { PrClient } from '../client/pr-client.js'
import { ConfigError } from '../protocol/errors.js'
import { isPrFileFormat, PR_FILE_FORMATS } from '../services/prserv/pr-file-format.js'
import type { PrFileFormat, PrFileRow } from '../services/prserv/pr-file-format.js'
import { formatPrRowsJson } from '../services/prserv/pr-json-format.js'
import { PR_COLUMN_INFO } from '../services/prserv/pr-methods.js'
import {
  DEFAULT_EXPORT_PAGE_ROWS,
  streamJsonExport,
  streamPrservToolExport,
  writeGatheredPrservTool,
} from '../services/prserv/pr-export-stream.js'
import type { TextSink } from '../services/prserv/pr-export-stream.js'
import { isUnfilteredExport, pageUnfilteredExport } from '../services/prserv/pr-store.js'
import type { ExportFilter, PrStore } from '../services/prserv/pr-store.js'
import { formatPrservToolFile } from '../services/prserv/prserv-tool-format.js'
import type { PrTableInfo } from '../services/prserv/prserv-tool-format.js'
import { writeFileAtomic } from './atomic-write.js'
import { openToolStore, parseDataTarget } from './data-target.js'
import type { DataTarget } from './data-target.js'
import { EXPORT_MAX_REPLY_BYTES, readServerExport } from './server-export.js'
import type { ServerExportPage } from './server-export.js'
import { readFilterFlags } from './tool-env.js'
import type { ToolCommandEnv } from './tool-env.js'

/** What `runExport` needs. `file` is a path or `-` for stdout. */
export interface ExportOptions {
  readonly target: DataTarget
  readonly filter: ExportFilter
  readonly format: PrFileFormat
  readonly file: string
}

/**
 * Exports and writes; returns the number of rows written. An unfiltered export streams
 * (pr-export-stream.ts) from a database, and with `--history` from a server as JSON; the
 * others are built whole.
 */
export async function runExport(options: ExportOptions, env: ToolCommandEnv): Promise<number> {
  const { target } = options
  if (target.kind === 'server') return exportFromServer(target.address, options, env)
  const store = await openToolStore(target.storage, true)
  try {
    return await exportFromStore(store, options, env)
  } finally {
    await store.close()
  }
}

async function exportFromStore(
  store: PrStore,
  options: ExportOptions,
  env: ToolCommandEnv,
): Promise<number> {
  const { filter } = options
  if (isUnfilteredExport(filter)) {
    return writeOutput(options, env, (write) =>
      options.format === 'json'
        ? streamJsonExport(
            pageUnfilteredExport(store, filter.history, DEFAULT_EXPORT_PAGE_ROWS),
            write,
          )
        : streamPrservToolExport(store, PR_COLUMN_INFO, filter.history, write),
    )
  }
  const rows = await store.exportRows(options.filter)
  await writeOutput(options, env, (write) => write(formatFile(rows, PR_COLUMN_INFO, options)))
  return rows.length
}

async function exportFromServer(
  address: string,
  options: ExportOptions,
  env: ToolCommandEnv,
): Promise<number> {
  const client = new PrClient({
    address,
    timeoutMs: DEFAULT_CLIENT_TIMEOUT_MS,
    maxMessageBytes: EXPORT_MAX_REPLY_BYTES,
  })
  try {
    const pages = readServerExport(client, options.filter)
    if (options.format === 'json') {
      return await writeOutput(options, env, (write) => streamJsonExport(rowsOf(pages), write))
    }
    // The prserv-tool file groups rows by version: its lines are gathered, then written.
    let table: PrTableInfo = PR_COLUMN_INFO
    const rows = rowsOf(pages, (page) => {
      table = page.table
    })
    return await writeOutput(options, env, (write) =>
      writeGatheredPrservTool(rows, () => table, write),
    )
  } finally {
    await client.close()
  }
}

/** The rows of `pages`; `onPage` sees each page as it is read. */
async function* rowsOf(
  pages: AsyncIterable<ServerExportPage>,
  onPage: (page: ServerExportPage) => void = () => undefined,
): AsyncGenerator<readonly PrFileRow[]> {
  for await (const page of pages) {
    onPage(page)
    yield page.rows
  }
}

function formatFile(
  rows: readonly PrFileRow[],
  table: PrTableInfo,
  options: ExportOptions,
): string {
  return options.format === 'json' ? formatPrRowsJson(rows) : formatPrservToolFile(rows, table)
}

/** Hands `produce` a writer to the output: stdout for `-`, else the file, atomically. */
async function writeOutput<T>(
  options: ExportOptions,
  env: ToolCommandEnv,
  produce: (write: TextSink) => Promise<T>,
): Promise<T> {
  if (options.file !== '-') return writeFileAtomic(resolve(env.cwd, options.file), produce)
  return produce((text) => {
    env.stdout(text)
    return Promise.resolve()
  })
}

function readFormat(opts: Readonly<Record<string, unknown>>): PrFileFormat {
  const named = opts.format
  if (named === undefined) return opts.json === true ? 'json' : 'prserv-tool'
  if (typeof named !== 'string' || !isPrFileFormat(named)) {
    throw new ConfigError(
      `Invalid format ${JSON.stringify(named)} from --format: expected ${PR_FILE_FORMATS.join(' or ')}`,
    )
  }
  if (opts.json === true && named !== 'json') throw new ConfigError('--json contradicts --format')
  return named
}

const EXPORT_HELP =
  '\nThe prserv-tool format is what `bitbake-prserv-tool export` writes (PRAUTO lines,\n' +
  'column table, PRSERV_LOCKDOWN); JSON is an array of rows, with "created" and "peer"\n' +
  'when the source keeps an audit trail. An unfiltered export is read in pages from a\n' +
  'database, and with --history from our servers; rows stored meanwhile may or may not\n' +
  'be in it.\n' +
  'Exit status: 0 done, 1 failed, 2 bad usage.\n' +
  '\nExamples:\n' +
  '  prserv export --server 127.0.0.1:8585 prserv.inc\n' +
  '  prserv export --database ./prserv.sqlite3 --json --history - | jq .\n'

/** Adds `export` to the program. */
export function registerExportCommand(program: Command, env: ToolCommandEnv): void {
  const command = program
    .command('export')
    .description(
      'write PR rows to FILE (- for stdout) as a bitbake-prserv-tool file or JSON, atomically',
    )
    .argument('<file>', 'output file, replaced atomically; - writes to stdout')
    .option('-s, --server <addr>', 'export from this running server (BitBake address syntax)')
    .option('-d, --database <path|url>', 'export from this SQLite file or postgres:// database')
    .option('--format <format>', 'prserv-tool (default) or json')
    .option('--json', 'same as --format json')
    .option('--version <version>', 'only rows of this version')
    .option('--pkgarch <pkgarch>', 'only rows of this package architecture')
    .option('--checksum <checksum>', 'only rows of this checksum')
    .option('--history', "every row, not only each package's highest revision")
    .addHelpText('after', EXPORT_HELP)
  command.action(async (file: string) => {
    const opts = command.opts<Record<string, unknown>>()
    const options: ExportOptions = {
      target: parseDataTarget(opts, env.cwd),
      filter: { ...readFilterFlags(opts), history: opts.history === true },
      format: readFormat(opts),
      file,
    }
    const count = await runExport(options, env)
    if (file !== '-') env.stdout(`exported ${count} rows to ${file} (${options.format})\n`)
  })
}
