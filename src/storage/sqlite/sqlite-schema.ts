/**
 * The SQLite schema: BitBake's `PRMAIN` table (created exactly as BitBake does, never altered)
 * and our side tables, which live next to it in the same file (prserv.md §6.1).
 */
import type Database from 'better-sqlite3'
import { StorageError } from '../../protocol/errors.js'

/** BitBake's table, byte for byte as BitBake ≥ 2.10 creates it. */
export const PRMAIN_DDL =
  'CREATE TABLE IF NOT EXISTS PRMAIN (version TEXT NOT NULL, pkgarch TEXT NOT NULL, ' +
  'checksum TEXT NOT NULL, value TEXT, PRIMARY KEY (version, pkgarch, checksum, value))'

/** The column names `PRMAIN` must have, in order. */
export const PRMAIN_COLUMNS = ['version', 'pkgarch', 'checksum', 'value'] as const

/** Key/value facts about our side tables; `schema_version` is the last migration applied. */
export const META_TABLE_DDL =
  'CREATE TABLE IF NOT EXISTS prserv_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)'

/**
 * The ordering index and audit trail: one row per PRMAIN row, `rid` = PRMAIN.rowid.
 * `sort_key` = revisionSortKey(value) (NULL for non-revisions), so binary order is numeric
 * order; `value` is copied so that a rebuild can re-attach the audit trail by content.
 * `max(rid)` is the high-water mark: PRMAIN rows above it were written by other software.
 */
export const ORDER_TABLE_DDL =
  'CREATE TABLE IF NOT EXISTS prserv_order (rid INTEGER PRIMARY KEY, version TEXT NOT NULL, ' +
  'pkgarch TEXT NOT NULL, checksum TEXT NOT NULL, value TEXT, sort_key TEXT, ' +
  'created_at TEXT, peer TEXT)'

/**
 * Indexes of `prserv_order`: package maxima and ranges. A checksum's values are read through
 * PRMAIN's primary key (version, pkgarch, checksum, value) instead: a checksum has few rows,
 * and a second random-order index would cost every insert another page write.
 */
export const ORDER_INDEX_DDL = [
  'CREATE INDEX IF NOT EXISTS prserv_order_by_package ON prserv_order (version, pkgarch, sort_key)',
] as const

/** Whether the database has a table called `name`. */
export function hasTable(db: Database.Database, name: string): boolean {
  const row = db
    .prepare<[string], { found: number }>(
      "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?",
    )
    .get(name)
  return row !== undefined
}

/**
 * Throws a StorageError unless `PRMAIN` has BitBake's current columns (for example the 2011
 * layout without `pkgarch`, which the current reference cannot use either).
 */
export function checkPrmainLayout(db: Database.Database, path: string): void {
  const columns = db
    .prepare<[], { name: string }>("SELECT name FROM pragma_table_info('PRMAIN') ORDER BY cid")
    .all()
    .map((column) => column.name)
  if (columns.join(',') !== PRMAIN_COLUMNS.join(',')) {
    throw new StorageError(
      `table PRMAIN in ${path} has columns (${columns.join(', ')}), ` +
        `expected (${PRMAIN_COLUMNS.join(', ')}): not a BitBake >= 2.10 PR database`,
    )
  }
}

/** The last migration applied to the side tables; 0 when they do not exist yet. */
export function readSchemaVersion(db: Database.Database): number {
  if (!hasTable(db, 'prserv_meta')) return 0
  const row = db
    .prepare<[], { value: string }>("SELECT value FROM prserv_meta WHERE key = 'schema_version'")
    .get()
  return row === undefined ? 0 : Number.parseInt(row.value, 10)
}

/**
 * A PRMAIN `value` as our API shows it. The column has TEXT affinity, so numbers arrive as
 * text already; anything else that other software managed to store is rendered as text.
 */
export function toStoredValue(raw: unknown): string | null {
  if (raw === null || raw === undefined) return null
  if (typeof raw === 'string') return raw
  if (typeof raw === 'number' || typeof raw === 'bigint') return String(raw)
  if (Buffer.isBuffer(raw)) return raw.toString('utf8')
  // SQLite only returns null, numbers, bigints, strings and buffers.
  return JSON.stringify(raw)
}
