/**
 * Keeps `prserv_order` (ordering index + audit trail) in step with PRMAIN: start-up staleness
 * check, rebuild, catch-up of rows other software (BitBake) appended, and our own inserts.
 */
import type Database from 'better-sqlite3'
import type {
  AuditedPrRow,
  ImportRowsResult,
  PrKey,
  WriteOrigin,
} from '../../services/prserv/pr-store.js'
import { revisionSortKey } from '../../services/prserv/revision.js'
import { ORDER_INDEX_DDL, ORDER_TABLE_DDL, toStoredValue } from './sqlite-schema.js'

/** How many `prserv_order` rows the start-up check compares with PRMAIN. */
export const ORDER_SPOT_CHECK_SAMPLES = 64

/** The SQL name of storedValueSortKey once registerSortKeyFunction has run. */
export const SORT_KEY_FUNCTION = 'prserv_sort_key'

/**
 * The sort key of a PRMAIN value as SQLite returns it: the key of the text every read presents
 * (toStoredValue), so that a value stored as a number (a `value` column of INTEGER affinity,
 * as in files other software made) orders like its text.
 */
export function storedValueSortKey(raw: unknown): string | null {
  const value = toStoredValue(raw)
  return value === null ? null : revisionSortKey(value)
}

/**
 * Registers `prserv_sort_key(value)` on this connection only. It is used in our statements,
 * never in the schema, so BitBake (which lacks the function) can still open and write the
 * file.
 */
export function registerSortKeyFunction(db: Database.Database): void {
  db.function(SORT_KEY_FUNCTION, { deterministic: true }, storedValueSortKey)
}

/**
 * Whether `prserv_order` still describes PRMAIN up to its high-water mark: same row count,
 * and a spot check of evenly spread rows has the same content at the same rowid (a VACUUM
 * may renumber PRMAIN, deletes shift counts). Read-only; run it inside a transaction.
 */
export function isOrderIndexInSync(db: Database.Database): boolean {
  const side = db
    .prepare<[], { count: number; hwm: number }>(
      'SELECT count(*) AS count, coalesce(max(rid), 0) AS hwm FROM prserv_order',
    )
    .get()
  if (side === undefined) return false
  const main = db
    .prepare<[number], { count: number }>('SELECT count(*) AS count FROM PRMAIN WHERE rowid <= ?')
    .get(side.hwm)
  if (main?.count !== side.count) return false
  const sample = db.prepare<[number], { matches: number }>(
    'SELECT (m.rowid IS NOT NULL AND m.version = o.version AND m.pkgarch = o.pkgarch ' +
      'AND m.checksum = o.checksum AND m.value IS o.value) AS matches ' +
      'FROM prserv_order o LEFT JOIN PRMAIN m ON m.rowid = o.rid ' +
      'WHERE o.rid >= ? ORDER BY o.rid LIMIT 1',
  )
  for (let index = 0; index < ORDER_SPOT_CHECK_SAMPLES && side.count > 0; index += 1) {
    const target = Math.floor((side.hwm * index) / (ORDER_SPOT_CHECK_SAMPLES - 1))
    if (sample.get(target)?.matches === 0) return false
  }
  return true
}

/**
 * Recreates `prserv_order` from PRMAIN, re-attaching each row's audit trail by content
 * (version, pkgarch, checksum, value). Needs `registerSortKeyFunction`; run it inside the
 * write transaction.
 */
export function rebuildOrderIndex(db: Database.Database): void {
  db.exec('DROP INDEX IF EXISTS prserv_order_by_package')
  db.exec('DROP INDEX IF EXISTS prserv_order_by_checksum')
  db.exec('DROP TABLE IF EXISTS prserv_order_stale')
  db.exec('ALTER TABLE prserv_order RENAME TO prserv_order_stale')
  db.exec(
    'CREATE INDEX prserv_order_stale_content ' +
      'ON prserv_order_stale (version, pkgarch, checksum, value)',
  )
  db.exec(ORDER_TABLE_DDL)
  const stale =
    'FROM prserv_order_stale s WHERE s.version = m.version AND s.pkgarch = m.pkgarch ' +
    'AND s.checksum = m.checksum AND s.value IS m.value ORDER BY s.rid LIMIT 1'
  db.exec(
    'INSERT INTO prserv_order (rid, version, pkgarch, checksum, value, sort_key, created_at, peer) ' +
      `SELECT m.rowid, m.version, m.pkgarch, m.checksum, m.value, ${SORT_KEY_FUNCTION}(m.value), ` +
      `(SELECT s.created_at ${stale}), (SELECT s.peer ${stale}) FROM PRMAIN m ORDER BY m.rowid`,
  )
  for (const ddl of ORDER_INDEX_DDL) db.exec(ddl)
  db.exec('DROP TABLE prserv_order_stale')
}

/** Writes rows to PRMAIN and `prserv_order` together. Use inside a write transaction. */
export class SqliteRowWriter {
  readonly #catchUp: Database.Statement<[]>
  readonly #insertMain: Database.Statement<[string, string, string, string | null]>
  readonly #hasRow: Database.Statement<[string, string, string, string | null], { found: number }>
  readonly #insertOrder: Database.Statement<
    [
      number | bigint,
      string,
      string,
      string,
      string | null,
      string | null,
      string | null,
      string | null,
    ]
  >

  constructor(db: Database.Database) {
    registerSortKeyFunction(db)
    // Rows above the high-water mark were appended by other software: index them, no audit.
    this.#catchUp = db.prepare(
      'INSERT OR REPLACE INTO prserv_order (rid, version, pkgarch, checksum, value, sort_key) ' +
        `SELECT rowid, version, pkgarch, checksum, value, ${SORT_KEY_FUNCTION}(value) FROM PRMAIN ` +
        'WHERE rowid > (SELECT coalesce(max(rid), 0) FROM prserv_order) ORDER BY rowid',
    )
    this.#insertMain = db.prepare(
      'INSERT OR IGNORE INTO PRMAIN (version, pkgarch, checksum, value) VALUES (?, ?, ?, ?)',
    )
    // `IS` also matches a NULL value, which PRMAIN's primary key does not de-duplicate.
    this.#hasRow = db.prepare(
      'SELECT 1 AS found FROM PRMAIN ' +
        'WHERE version = ? AND pkgarch = ? AND checksum = ? AND value IS ? LIMIT 1',
    )
    // OR REPLACE: a stale entry can only remain if someone deleted PRMAIN's last row.
    this.#insertOrder = db.prepare(
      'INSERT OR REPLACE INTO prserv_order ' +
        '(rid, version, pkgarch, checksum, value, sort_key, created_at, peer) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    )
  }

  /** Indexes PRMAIN rows appended by other software; returns how many. */
  catchUp(): number {
    return this.#catchUp.run().changes
  }

  /**
   * Inserts the row unless that exact row exists (BitBake's store). Returns whether a row was
   * added; `createdAt` is ISO-8601 UTC.
   */
  insert(key: PrKey, value: string, origin: WriteOrigin, createdAt: string): boolean {
    return this.#store({ ...key, value, createdAt, peer: origin.peer })
  }

  /**
   * Bulk import: inserts each row verbatim with its own audit fields, unless the identical
   * row (NULL values included) exists or came earlier in `rows`. Use inside a write
   * transaction, after `catchUp`.
   */
  importRows(rows: readonly AuditedPrRow[]): ImportRowsResult {
    let written = 0
    for (const row of rows) {
      const { version, pkgarch, checksum, value } = row
      if (this.#hasRow.get(version, pkgarch, checksum, value) !== undefined) continue
      if (this.#store(row)) written += 1
    }
    return { written, skipped: rows.length - written }
  }

  /** Inserts `row` into PRMAIN unless present, then its order entry; whether it was added. */
  #store(row: AuditedPrRow): boolean {
    const { version, pkgarch, checksum, value } = row
    const result = this.#insertMain.run(version, pkgarch, checksum, value)
    if (result.changes === 0) return false
    this.#insertOrder.run(
      result.lastInsertRowid,
      version,
      pkgarch,
      checksum,
      value,
      value === null ? null : revisionSortKey(value),
      row.createdAt,
      row.peer,
    )
    return true
  }
}
