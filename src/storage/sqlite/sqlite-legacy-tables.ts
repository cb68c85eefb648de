/**
 * Reads the PR tables of BitBake before 2.10 (`PRMAIN_nohist`, `PRMAIN_hist`: one INTEGER
 * value per checksum, prserv.md §6.2), which the current server ignores, so that an operator
 * can import them into PRMAIN explicitly (a deliberate extension, not reference behaviour).
 */
import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import { StorageError } from '../../protocol/errors.js'
import type { PrRow } from '../../services/prserv/pr-store.js'
import { hasTable, toStoredValue } from './sqlite-schema.js'

/** The pre-2.10 table names, in the order their rows are listed. */
export const LEGACY_PR_TABLES = ['PRMAIN_nohist', 'PRMAIN_hist'] as const
/** One of LEGACY_PR_TABLES. */
export type LegacyPrTable = (typeof LEGACY_PR_TABLES)[number]

/** One row of an old table; `value` is the integer rendered as a decimal string. */
export interface LegacyPrRow extends PrRow {
  readonly table: LegacyPrTable
}

/** The row counts of an old table present in a file. */
export interface LegacyTableCounts {
  readonly table: LegacyPrTable
  /** Rows with a version. */
  readonly rows: number
  /** Rows with an empty version (no export shows them). */
  readonly emptyVersionRows: number
}

interface RawLegacyRow {
  readonly position: number
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: unknown
}

/** The old tables present in the SQLite file at `path`, with their row counts. */
export function countLegacyPrRows(path: string): readonly LegacyTableCounts[] {
  return withLegacyFile(path, (db) =>
    LEGACY_PR_TABLES.filter((table) => hasTable(db, table)).map((table) => {
      // The table name comes from the fixed list above, never from input.
      const counts = db
        .prepare<[], { rows: number | null; empty: number | null }>(
          `SELECT sum(version <> '') AS rows, sum(version = '') AS empty FROM ${table}`,
        )
        .get()
      return { table, rows: counts?.rows ?? 0, emptyVersionRows: counts?.empty ?? 0 }
    }),
  )
}

/**
 * The rows of `table` (with a version) in row order, `batchRows` at a time, each page read
 * on its own read-only connection (the file is never written).
 */
export function* pageLegacyPrRows(
  path: string,
  table: LegacyPrTable,
  batchRows: number,
): Generator<readonly LegacyPrRow[]> {
  let after = 0
  for (;;) {
    const raw = withLegacyFile(path, (db) =>
      db
        .prepare<{ after: number; limit: number }, RawLegacyRow>(
          `SELECT rowid AS position, version, pkgarch, checksum, value FROM ${table} ` +
            "WHERE rowid > @after AND version <> '' ORDER BY rowid LIMIT @limit",
        )
        .all({ after, limit: batchRows }),
    )
    const last = raw.at(-1)
    if (last === undefined) return
    after = last.position
    yield raw.map(({ version, pkgarch, checksum, value }) => {
      return { table, version, pkgarch, checksum, value: toStoredValue(value) }
    })
  }
}

/** Runs `read` on a read-only connection to `path`; failures become StorageErrors. */
function withLegacyFile<T>(path: string, read: (db: Database.Database) => T): T {
  if (!existsSync(path)) throw new StorageError(`SQLite database ${path} does not exist`)
  let db: Database.Database | null = null
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
    return read(db)
  } catch (error: unknown) {
    throw new StorageError(`cannot read old PR tables of ${path}`, { cause: error })
  } finally {
    db?.close()
  }
}
