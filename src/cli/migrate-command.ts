/**
 * `prserv migrate --from SRC --to DST`: copies every PR row (audit trail included, and for
 * SQLite sources BitBake's pre-2.10 tables) between SQLite files and PostgreSQL databases,
 * idempotently, then verifies the destination and prints a summary.
 */
import type { Command } from 'commander'
import type { StorageConfig } from '../config/config.js'
import { failFor, parsePositiveInteger } from '../config/config-values.js'
import { ConfigError } from '../protocol/errors.js'
import { copyPrRows, DEFAULT_MIGRATION_BATCH_ROWS } from '../services/prserv/pr-migration.js'
import type { CopySummary } from '../services/prserv/pr-migration.js'
import { pageStore } from '../services/prserv/pr-store.js'
import type { AuditedPrRow } from '../services/prserv/pr-store.js'
import { openSqliteMigrationSource } from '../storage/sqlite/sqlite-migration-source.js'
import type {
  SourceTable,
  SqliteMigrationSource,
} from '../storage/sqlite/sqlite-migration-source.js'
import { describeStorage, isSameStorage, openToolStore, parseDatabaseFlag } from './data-target.js'
import { createProgressBar } from './progress-bar.js'
import { EXIT_INCOMPLETE } from './tool-env.js'
import type { ToolCommandEnv } from './tool-env.js'

/** The printed (and `--json`) summary of a migration. */
export interface MigrationReport extends CopySummary {
  readonly from: string
  readonly to: string
  /** Rows read per source table (`PRMAIN`, `PRMAIN_nohist`, `PRMAIN_hist`). */
  readonly readByTable: Readonly<Record<string, number>>
  /** Source rows that cannot be migrated, per table, with the reason. */
  readonly notMigrated: SqliteMigrationSource['unmigrated']
}

/** A source opened for a migration; `close` releases it, whether the copy ran or not. */
interface OpenSource {
  readonly source: SqliteMigrationSource
  close(): Promise<void>
}

/**
 * The source's tables, read page by page while the copy runs. A PostgreSQL source has one
 * table, read through a read-only store.
 */
async function openSource(storage: StorageConfig): Promise<OpenSource> {
  if (storage.kind === 'sqlite') {
    return { source: openSqliteMigrationSource(storage.path), close: () => Promise.resolve() }
  }
  const store = await openToolStore(storage, true)
  try {
    const table: SourceTable = {
      table: 'PRMAIN',
      rowCount: (await store.rowStats()).rows,
      pages: (batchRows) => pageStore(store, batchRows),
    }
    return { source: { tables: [table], unmigrated: [] }, close: () => store.close() }
  } catch (error: unknown) {
    await store.close()
    throw error
  }
}

/** Runs a migration; the source is only read, the destination created if needed. */
export async function runMigration(
  from: StorageConfig,
  to: StorageConfig,
  options: { readonly batchRows: number; readonly env: ToolCommandEnv },
): Promise<MigrationReport> {
  if (isSameStorage(from, to)) {
    throw new ConfigError(`--from and --to name the same database (${describeStorage(from)})`)
  }
  const opened = await openSource(from)
  try {
    return await copySource(opened.source, from, to, options)
  } finally {
    await opened.close()
  }
}

async function copySource(
  source: SqliteMigrationSource,
  from: StorageConfig,
  to: StorageConfig,
  options: { readonly batchRows: number; readonly env: ToolCommandEnv },
): Promise<MigrationReport> {
  const readByTable: Record<string, number> = {}
  async function* allPages(): AsyncGenerator<readonly AuditedPrRow[]> {
    for (const table of source.tables) {
      let count = 0
      for await (const page of table.pages(options.batchRows)) {
        count += page.length
        yield page
      }
      readByTable[table.table] = count
    }
  }
  const destination = await openToolStore(to, false)
  let summary: CopySummary
  try {
    const total = source.tables.reduce((sum, table) => sum + table.rowCount, 0)
    const bar = createProgressBar(options.env.stderr, { label: 'migrate', total, unit: 'rows' })
    summary = await copyPrRows(allPages(), destination, {
      onProgress: (done) => {
        bar.update(done)
      },
    })
    bar.finish()
  } finally {
    await destination.close()
  }
  return {
    from: describeStorage(from),
    to: describeStorage(to),
    readByTable,
    notMigrated: source.unmigrated,
    ...summary,
  }
}

/** The summary as text, one fact per line. */
export function formatMigrationReport(report: MigrationReport): string {
  const tables = Object.entries(report.readByTable).map(([table, count]) => `${table} ${count}`)
  const lines = [
    `migrated ${report.from} -> ${report.to}`,
    `rows read:    ${report.read}${tables.length > 0 ? ` (${tables.join(', ')})` : ''}`,
    `written:      ${report.written}`,
    `skipped:      ${report.skipped} (already in the destination)`,
    `conflicts:    ${report.conflicts} (checksum held another value before; written too)`,
    `destination:  ${report.destinationRowsBefore} -> ${report.destinationRowsAfter} rows`,
    report.isVerified
      ? 'verification: ok, every source row is in the destination'
      : `verification: FAILED, ${report.missing} source rows missing from the destination`,
    ...report.notMigrated.map(
      (entry) => `not migrated: ${entry.rows} rows of ${entry.table}: ${entry.reason}`,
    ),
  ]
  return `${lines.join('\n')}\n`
}

const MIGRATE_HELP =
  '\nA progress bar is drawn on stderr when it is a terminal. The summary counts rows\n' +
  'read, written, skipped (already there) and conflicts (a checksum that held another\n' +
  'value in the destination; written too), and checks each page arrived. Memory is\n' +
  'bounded by --batch-rows, not by the size of the database.\n' +
  'Exit status: 0 verified, 1 failed or not verified, 2 bad usage.\n' +
  '\nExamples:\n' +
  '  prserv migrate --from ./prserv.sqlite3 --to postgres://prserv@db/prserv\n' +
  '  prserv migrate --from postgres://prserv@db/prserv --to ./back.sqlite3 --json\n'

/** `--batch-rows`, or the default. */
function readBatchRows(raw: unknown): number {
  if (raw === undefined) return DEFAULT_MIGRATION_BATCH_ROWS
  return parsePositiveInteger(raw, failFor('batch_rows', { raw, source: '--batch-rows' }))
}

/** Adds `migrate` to the program. */
export function registerMigrateCommand(program: Command, env: ToolCommandEnv): void {
  const command = program
    .command('migrate')
    .description(
      'copy every PR row (audit trail, and the pre-2.10 PRMAIN_nohist/PRMAIN_hist tables of ' +
        'SQLite files) from one database to another; idempotent, verified, never writes --from',
    )
    .requiredOption('--from <path|url>', 'source: SQLite file or postgres:// URL (read-only)')
    .requiredOption('--to <path|url>', 'destination: SQLite file or postgres:// URL (created)')
    .option(
      '--batch-rows <n>',
      `rows per page, one transaction each (default: ${DEFAULT_MIGRATION_BATCH_ROWS})`,
    )
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', MIGRATE_HELP)
  command.action(async () => {
    const opts = command.opts<Record<string, unknown>>()
    const from = parseDatabaseFlag(opts.from, '--from', env.cwd)
    const to = parseDatabaseFlag(opts.to, '--to', env.cwd)
    const batchRows = readBatchRows(opts.batchRows)
    const report = await runMigration(from, to, { batchRows, env })
    env.stdout(opts.json === true ? `${JSON.stringify(report)}\n` : formatMigrationReport(report))
    if (!report.isVerified) env.setExitCode(EXIT_INCOMPLETE)
  })
}
