/**
 * The read side of the SQLite PR store: package maxima as index reads on `prserv_order`, plus
 * the PRMAIN rows above its high-water mark (appended by other software, usually none), found
 * by a rowid range scan; a checksum's values straight from PRMAIN's primary key. Without a
 * usable index (read-only store on a file only BitBake wrote) every package read scans the
 * package's PRMAIN rows instead.
 */
import type Database from 'better-sqlite3'
import type { PackageKey, PrKey } from '../../services/prserv/pr-store.js'
import { maxRevision, minRevision, revisionSortKey } from '../../services/prserv/revision.js'
import type { PrReader } from './sqlite-write-ops.js'
import { toStoredValue } from './sqlite-schema.js'

/** Greater than every character of a sort key, to bound "keys starting with K" ranges. */
const SORT_KEY_CEILING = '\u007f'

const PACKAGE = 'version = @version AND pkgarch = @pkgarch'
const CHECKSUM = `${PACKAGE} AND checksum = @checksum`

function extremeSql(where: string, aggregate: 'max' | 'min'): string {
  // Ties (equal numbers written differently, "1" and "01") resolve to the first row stored.
  return (
    `SELECT value FROM prserv_order WHERE ${where} AND sort_key = ` +
    `(SELECT ${aggregate}(sort_key) FROM prserv_order WHERE ${where}) ORDER BY rid LIMIT 1`
  )
}

/** Read statements, exported so that tests can check their query plans. */
export const READ_SQL = {
  packageMax: extremeSql(PACKAGE, 'max'),
  // Every row of the checksum (a handful), whoever wrote it: PRMAIN's primary key covers it.
  checksumRows: `SELECT rowid AS rid, value FROM PRMAIN WHERE ${CHECKSUM}`,
  maxUnderBase: extremeSql(`${PACKAGE} AND sort_key > @low AND sort_key < @high`, 'max'),
  hasPackage: `SELECT 1 AS found FROM prserv_order WHERE ${PACKAGE} LIMIT 1`,
  hasRow: `SELECT 1 AS found FROM PRMAIN WHERE ${CHECKSUM} AND value = @value`,
  hasChecksum: `SELECT 1 AS found FROM PRMAIN WHERE ${CHECKSUM} LIMIT 1`,
  // Unary `+` keeps the planner on the rowid range instead of the (version, pkgarch) index.
  tail:
    'SELECT checksum, value FROM PRMAIN WHERE rowid > ' +
    '(SELECT coalesce(max(rid), 0) FROM prserv_order) ' +
    'AND +version = @version AND +pkgarch = @pkgarch ORDER BY rowid',
  packageRows: `SELECT checksum, value FROM PRMAIN WHERE ${PACKAGE} ORDER BY rowid`,
  anyTail:
    'SELECT 1 AS found FROM PRMAIN WHERE rowid > ' +
    '(SELECT coalesce(max(rid), 0) FROM prserv_order) LIMIT 1',
} as const

interface TailRow {
  readonly checksum: string
  readonly value: string | null
}

const NO_TAIL_ROWS: readonly TailRow[] = []

type ValueRow = { value: unknown }
type ChecksumRow = { rid: number; value: unknown }
type FoundRow = { found: number }
type PackageParams = { version: string; pkgarch: string }
type ChecksumParams = PackageParams & { checksum: string }
type BaseParams = PackageParams & { low: string; high: string }

/** Prepared read statements over one connection; implements the reads allocation needs. */
export class SqlitePrQueries implements PrReader {
  /** False when `prserv_order` is missing or stale: package reads scan PRMAIN. */
  readonly isIndexed: boolean
  readonly #db: Database.Database
  readonly #begin: Database.Statement<[]>
  readonly #end: Database.Statement<[]>
  readonly #tail: Database.Statement<PackageParams, TailRow>
  readonly #hasRow: Database.Statement<ChecksumParams & { value: string }, FoundRow>
  readonly #hasChecksum: Database.Statement<ChecksumParams, FoundRow>
  readonly #checksumRows: Database.Statement<ChecksumParams, ChecksumRow>
  readonly #indexed: IndexedStatements | null
  readonly #isCaughtUp: boolean
  #tailCache: Map<string, readonly TailRow[]> | null = null

  /**
   * `isCaughtUp`: the caller guarantees that no PRMAIN row lies above the high-water mark in
   * any snapshot it reads (the writer, which indexes such rows first in each transaction and
   * holds the write lock), so the indexed reads alone are complete.
   */
  constructor(db: Database.Database, isIndexed: boolean, isCaughtUp = false) {
    this.#db = db
    this.isIndexed = isIndexed
    this.#isCaughtUp = isIndexed && isCaughtUp
    this.#begin = db.prepare<[]>('BEGIN')
    this.#end = db.prepare<[]>('ROLLBACK')
    this.#tail = db.prepare<PackageParams, TailRow>(
      isIndexed ? READ_SQL.tail : READ_SQL.packageRows,
    )
    this.#hasRow = db.prepare<ChecksumParams & { value: string }, FoundRow>(READ_SQL.hasRow)
    this.#hasChecksum = db.prepare<ChecksumParams, FoundRow>(READ_SQL.hasChecksum)
    this.#checksumRows = db.prepare<ChecksumParams, ChecksumRow>(READ_SQL.checksumRows)
    this.#indexed = isIndexed ? prepareIndexed(db) : null
  }

  /**
   * Runs `read` on one snapshot (a deferred read transaction, or the caller's transaction).
   * Rows above the high-water mark are fetched once per package within it.
   */
  read<T>(read: () => T): T {
    const ownsTransaction = !this.#db.inTransaction
    if (ownsTransaction) this.#begin.run()
    this.#tailCache = new Map()
    try {
      return read()
    } finally {
      this.#tailCache = null
      // A read transaction changes nothing: ending it with ROLLBACK is the cheap, safe way.
      if (ownsTransaction && this.#db.inTransaction) this.#end.run()
    }
  }

  packageMax(pkg: PackageKey): string | null {
    const indexed = this.#indexed?.packageMax.get(packageParams(pkg))
    return maxRevision([valueOf(indexed), ...this.#tailValues(pkg)])
  }

  checksumValue(key: PrKey, history: boolean): string | null {
    const rows = this.#checksumRows.all(checksumParams(key))
    // Ties (equal numbers written differently, "1" and "01") resolve to the first row stored.
    if (rows.length > 1) rows.sort((a, b) => a.rid - b.rid)
    const values = rows.map((row) => toStoredValue(row.value))
    return history ? minRevision(values) : maxRevision(values)
  }

  maxUnderBase(pkg: PackageKey, base: string): string | null {
    const low = revisionSortKey(base)
    if (low === null) throw new RangeError(`not a revision: ${JSON.stringify(base)}`)
    const high = low + SORT_KEY_CEILING
    const indexed = this.#indexed?.maxUnderBase.get({ ...packageParams(pkg), low, high })
    const tail = this.#tailValues(pkg).filter((value) => {
      const key = value === null ? null : revisionSortKey(value)
      return key !== null && key > low && key < high
    })
    return maxRevision([valueOf(indexed), ...tail])
  }

  /**
   * Whether some PRMAIN row of this snapshot is not in `prserv_order` (a stale or missing
   * index, or rows other software appended since the last catch-up), so that the indexed
   * reads alone would miss it. Call it inside `read`.
   */
  hasUnindexedRows(): boolean {
    if (this.#indexed === null) return true
    if (this.#isCaughtUp) return false
    return this.#indexed.anyTail.get() !== undefined
  }

  hasPackage(pkg: PackageKey): boolean {
    const indexed = this.#indexed?.hasPackage.get(packageParams(pkg))
    return indexed !== undefined || this.#tailRows(pkg).length > 0
  }

  hasRow(key: PrKey, value: string): boolean {
    return this.#hasRow.get({ ...checksumParams(key), value }) !== undefined
  }

  /** Whether PRMAIN has any row of the checksum (whatever its value). */
  hasChecksum(key: PrKey): boolean {
    return this.#hasChecksum.get(checksumParams(key)) !== undefined
  }

  #tailValues(pkg: PackageKey): (string | null)[] {
    return this.#tailRows(pkg).map((row) => row.value)
  }

  #tailRows(pkg: PackageKey): readonly TailRow[] {
    if (this.#isCaughtUp) return NO_TAIL_ROWS
    const cacheKey = JSON.stringify([pkg.version, pkg.pkgarch])
    const cached = this.#tailCache?.get(cacheKey)
    if (cached !== undefined) return cached
    const rows = this.#tail.all(packageParams(pkg)).map((row) => ({
      checksum: row.checksum,
      value: toStoredValue(row.value),
    }))
    this.#tailCache?.set(cacheKey, rows)
    return rows
  }
}

interface IndexedStatements {
  readonly packageMax: Database.Statement<PackageParams, ValueRow>
  readonly maxUnderBase: Database.Statement<BaseParams, ValueRow>
  readonly hasPackage: Database.Statement<PackageParams, FoundRow>
  readonly anyTail: Database.Statement<[], FoundRow>
}

function prepareIndexed(db: Database.Database): IndexedStatements {
  return {
    packageMax: db.prepare<PackageParams, ValueRow>(READ_SQL.packageMax),
    maxUnderBase: db.prepare<BaseParams, ValueRow>(READ_SQL.maxUnderBase),
    hasPackage: db.prepare<PackageParams, FoundRow>(READ_SQL.hasPackage),
    anyTail: db.prepare<[], FoundRow>(READ_SQL.anyTail),
  }
}

function packageParams(pkg: PackageKey): PackageParams {
  return { version: pkg.version, pkgarch: pkg.pkgarch }
}

function checksumParams(key: PrKey): ChecksumParams {
  return { version: key.version, pkgarch: key.pkgarch, checksum: key.checksum }
}

function valueOf(row: ValueRow | undefined): string | null {
  return row === undefined ? null : toStoredValue(row.value)
}
