/**
 * Reads the PR tables of BitBake before 2.10 (`PRMAIN_nohist`, `PRMAIN_hist`: one INTEGER
 * value per checksum, prserv.md §6.2), which the current server ignores, so that an operator
 * can import them into PRMAIN explicitly (a deliberate extension, not reference behaviour).
 */
import type { AuditedPrRow } from '../../services/prserv/pr-store.js'
import { readSqliteFile } from './sqlite-open.js'
import { hasTable, toStoredValue } from './sqlite-schema.js'

/** The pre-2.10 table names, in the order their rows are listed. */
export const LEGACY_PR_TABLES = ['PRMAIN_nohist', 'PRMAIN_hist'] as const
/** One of LEGACY_PR_TABLES. */
export type LegacyPrTable = (typeof LEGACY_PR_TABLES)[number]

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
  return readSqliteFile(path, (db) =>
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
 * on its own read-only connection (the file is never written). Values become decimal strings;
 * the old tables have no audit trail.
 */
export function* pageLegacyPrRows(
  path: string,
  table: LegacyPrTable,
  batchRows: number,
): Generator<readonly AuditedPrRow[]> {
  let after = 0
  for (;;) {
    const raw = readSqliteFile(path, (db) =>
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
      return {
        version,
        pkgarch,
        checksum,
        value: toStoredValue(value),
        createdAt: null,
        peer: null,
      }
    })
  }
}
