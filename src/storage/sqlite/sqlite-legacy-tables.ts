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

interface RawLegacyRow {
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: unknown
}

/**
 * Every row of the old tables present in the SQLite file at `path` (none: an empty list),
 * table by table in row order. Opens the file read-only and never writes; throws a
 * StorageError if the file does not exist or cannot be read.
 */
export function listLegacyPrRows(path: string): Promise<readonly LegacyPrRow[]> {
  if (!existsSync(path)) {
    return Promise.reject(new StorageError(`SQLite database ${path} does not exist`))
  }
  let db: Database.Database | null = null
  try {
    db = new Database(path, { readonly: true, fileMustExist: true })
    const rows: LegacyPrRow[] = []
    for (const table of LEGACY_PR_TABLES) {
      if (!hasTable(db, table)) continue
      // The table name comes from the fixed list above, never from input.
      const statement = db.prepare<[], RawLegacyRow>(
        `SELECT version, pkgarch, checksum, value FROM ${table} ORDER BY rowid`,
      )
      for (const row of statement.iterate()) {
        const { version, pkgarch, checksum } = row
        rows.push({ table, version, pkgarch, checksum, value: toStoredValue(row.value) })
      }
    }
    return Promise.resolve(rows)
  } catch (error: unknown) {
    return Promise.reject(
      new StorageError(`cannot read old PR tables of ${path}`, { cause: error }),
    )
  } finally {
    db?.close()
  }
}
