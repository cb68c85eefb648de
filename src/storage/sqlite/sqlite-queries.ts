/**
 * The read side of the SQLite PR store: numeric maxima and minima as index reads on
 * `prserv_order`, plus the PRMAIN rows above its high-water mark (appended by other software,
 * usually none), found by a rowid range scan. Without a usable index (read-only store on a
 * file only BitBake wrote) every package read scans the package's PRMAIN rows instead.
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
  checksumMax: extremeSql(CHECKSUM, 'max'),
  checksumMin: extremeSql(CHECKSUM, 'min'),
  maxUnderBase: extremeSql(`${PACKAGE} AND sort_key > @low AND sort_key < @high`, 'max'),
  hasPackage: `SELECT 1 AS found FROM prserv_order WHERE ${PACKAGE} LIMIT 1`,
  hasRow: `SELECT 1 AS found FROM PRMAIN WHERE ${CHECKSUM} AND value = @value`,
  // Unary `+` keeps the planner on the rowid range instead of the (version, pkgarch) index.
  tail:
    'SELECT checksum, value FROM PRMAIN WHERE rowid > ' +
    '(SELECT coalesce(max(rid), 0) FROM prserv_order) ' +
    'AND +version = @version AND +pkgarch = @pkgarch ORDER BY rowid',
  packageRows: `SELECT checksum, value FROM PRMAIN WHERE ${PACKAGE} ORDER BY rowid`,
} as const

interface TailRow {
  readonly checksum: string
  readonly value: string | null
}

type ValueRow = { value: unknown }
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
  readonly #indexed: IndexedStatements | null
  #tailCache: Map<string, readonly TailRow[]> | null = null

  constructor(db: Database.Database, isIndexed: boolean) {
    this.#db = db
    this.isIndexed = isIndexed
    this.#begin = db.prepare<[]>('BEGIN')
    this.#end = db.prepare<[]>('ROLLBACK')
    this.#tail = db.prepare<PackageParams, TailRow>(
      isIndexed ? READ_SQL.tail : READ_SQL.packageRows,
    )
    this.#hasRow = db.prepare<ChecksumParams & { value: string }, FoundRow>(READ_SQL.hasRow)
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
    const params = checksumParams(key)
    const tail = this.#tailRows(key).filter((row) => row.checksum === key.checksum)
    const tailValues = tail.map((row) => row.value)
    if (history) {
      return minRevision([valueOf(this.#indexed?.checksumMin.get(params)), ...tailValues])
    }
    return maxRevision([valueOf(this.#indexed?.checksumMax.get(params)), ...tailValues])
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

  hasPackage(pkg: PackageKey): boolean {
    const indexed = this.#indexed?.hasPackage.get(packageParams(pkg))
    return indexed !== undefined || this.#tailRows(pkg).length > 0
  }

  hasRow(key: PrKey, value: string): boolean {
    return this.#hasRow.get({ ...checksumParams(key), value }) !== undefined
  }

  #tailValues(pkg: PackageKey): (string | null)[] {
    return this.#tailRows(pkg).map((row) => row.value)
  }

  #tailRows(pkg: PackageKey): readonly TailRow[] {
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
  readonly checksumMax: Database.Statement<ChecksumParams, ValueRow>
  readonly checksumMin: Database.Statement<ChecksumParams, ValueRow>
  readonly maxUnderBase: Database.Statement<BaseParams, ValueRow>
  readonly hasPackage: Database.Statement<PackageParams, FoundRow>
}

function prepareIndexed(db: Database.Database): IndexedStatements {
  return {
    packageMax: db.prepare<PackageParams, ValueRow>(READ_SQL.packageMax),
    checksumMax: db.prepare<ChecksumParams, ValueRow>(READ_SQL.checksumMax),
    checksumMin: db.prepare<ChecksumParams, ValueRow>(READ_SQL.checksumMin),
    maxUnderBase: db.prepare<BaseParams, ValueRow>(READ_SQL.maxUnderBase),
    hasPackage: db.prepare<PackageParams, FoundRow>(READ_SQL.hasPackage),
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
