/**
 * `export` for the SQLite store (prserv.md §7, with BitBake's text maximum replaced by the
 * numeric one): PRMAIN rows in insertion order with the audit trail from `prserv_order`. Also
 * the paged export, the rows of given keys and the row counts that `prserv migrate` works with.
 */
import type Database from 'better-sqlite3'
import type {
  AuditedPrRow,
  ExportFilter,
  ExportPage,
  PositionedPrRow,
  PrKey,
  RowStats,
} from '../../services/prserv/pr-store.js'
import { revisionSortKey } from '../../services/prserv/revision.js'
import { registerSortKeyFunction, storedValueSortKey } from './sqlite-order-index.js'
import { PackageMaxima } from './sqlite-package-maxima.js'
import type { SqlitePrQueries } from './sqlite-queries.js'
import { toStoredValue } from './sqlite-schema.js'

const FILTER_COLUMNS = ['version', 'pkgarch', 'checksum'] as const
type FilterColumn = (typeof FILTER_COLUMNS)[number]
type FilterParams = Partial<Record<FilterColumn, string>>

interface ExportRow {
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: unknown
  readonly createdAt: string | null
  readonly peer: string | null
}

interface PageParams {
  readonly after: number
  readonly limit: number
}

interface PagedRow extends ExportRow {
  readonly position: number
}

interface MaximaRow extends PagedRow {
  /** The largest sort key of the row's package. */
  readonly maxKey: string | null
}

interface KeyRow {
  readonly position: number
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: unknown
}

const KEY_ROWS_SQL =
  'SELECT rowid AS position, version, pkgarch, checksum, value FROM PRMAIN ' +
  'WHERE version = @version AND pkgarch = @pkgarch AND checksum = @checksum'
const ROW_STATS_SQL =
  "SELECT coalesce(sum(version <> ''), 0) AS rows, coalesce(max(rowid), 0) AS lastPosition " +
  'FROM PRMAIN'

const INDEXED_SELECT =
  'SELECT m.version AS version, m.pkgarch AS pkgarch, m.checksum AS checksum, ' +
  'm.value AS value, o.created_at AS createdAt, o.peer AS peer FROM PRMAIN m ' +
  'LEFT JOIN prserv_order o ON o.rid = m.rowid AND o.version = m.version ' +
  'AND o.pkgarch = m.pkgarch AND o.checksum = m.checksum AND o.value IS m.value'
const SCAN_SELECT =
  'SELECT m.version AS version, m.pkgarch AS pkgarch, m.checksum AS checksum, ' +
  'm.value AS value, NULL AS createdAt, NULL AS peer FROM PRMAIN m'

/** An export page with each row's package maximum sort key, through `prserv_order`. */
const INDEXED_MAXIMA_SQL =
  INDEXED_SELECT.replace('SELECT ', 'SELECT m.rowid AS position, ').replace(
    ' FROM PRMAIN m ',
    ', (SELECT max(x.sort_key) FROM prserv_order x ' +
      'WHERE x.version = m.version AND x.pkgarch = m.pkgarch) AS maxKey FROM PRMAIN m ',
  ) + " WHERE m.rowid > @after AND m.version <> '' ORDER BY m.rowid LIMIT @limit"

/** Runs exports over one connection, caching one statement per filter combination. */
export class SqlitePrExporter {
  readonly #db: Database.Database
  readonly #queries: SqlitePrQueries
  readonly #statements = new Map<string, Database.Statement<FilterParams, ExportRow>>()
  #pageStatement: Database.Statement<PageParams, PagedRow> | null = null
  #maximaStatement: Database.Statement<PageParams, MaximaRow> | null = null
  #keyStatement: Database.Statement<PrKey, KeyRow> | null = null
  #versionStatement: Database.Statement<{ versions: string }, ExportRow> | null = null
  readonly #scanMaxima: PackageMaxima

  constructor(db: Database.Database, queries: SqlitePrQueries) {
    this.#db = db
    this.#queries = queries
    // PackageMaxima computes sort keys on this (read) connection.
    registerSortKeyFunction(db)
    this.#scanMaxima = new PackageMaxima(db)
  }

  /**
   * Rows matching `filter` (a non-empty string filters by equality), skipping rows with an
   * empty version, in insertion order. Without history only the rows holding their package's
   * numeric maximum (computed over the whole package, whatever the checksum filter). Call it
   * inside `SqlitePrQueries.read` so that rows and maxima come from one snapshot.
   */
  exportRows(filter: ExportFilter): AuditedPrRow[] {
    const params: FilterParams = {}
    const conditions = ["m.version <> ''"]
    for (const column of FILTER_COLUMNS) {
      const wanted = filter[column]
      if (wanted === null || wanted === '') continue
      params[column] = wanted
      conditions.push(`m.${column} = @${column}`)
    }
    const select = this.#queries.isIndexed ? INDEXED_SELECT : SCAN_SELECT
    const sql = `${select} WHERE ${conditions.join(' AND ')} ORDER BY m.rowid`
    const rows = this.#statement(sql).all(params).map(toAuditedRow)
    return filter.history ? rows : this.#keepPackageMaxima(rows)
  }

  /** `PrStore.exportPage`; call it inside `SqlitePrQueries.read`. */
  exportPage(after: number, limit: number): ExportPage {
    const select = this.#queries.isIndexed ? INDEXED_SELECT : SCAN_SELECT
    this.#pageStatement ??= this.#db.prepare<PageParams, PagedRow>(
      `${select.replace('SELECT ', 'SELECT m.rowid AS position, ')} ` +
        "WHERE m.rowid > @after AND m.version <> '' ORDER BY m.rowid LIMIT @limit",
    )
    const rows = this.#pageStatement.all({ after, limit })
    return { rows: rows.map(toAuditedRow), last: rows.at(-1)?.position ?? after }
  }

  /** `PrStore.exportMaximaPage`; call it inside `SqlitePrQueries.read`. */
  exportMaximaPage(after: number, limit: number): ExportPage {
    if (!this.#queries.isIndexed) {
      // Without prserv_order each package's maximum is read from all its rows, once.
      const page = this.exportPage(after, limit)
      return { rows: this.#scanMaxima.keepMaxima(page.rows), last: page.last }
    }
    if (this.#queries.hasUnindexedRows()) {
      // Rows other software appended since the last catch-up: the maxima include them.
      const page = this.exportPage(after, limit)
      return { rows: this.#keepPackageMaxima(page.rows), last: page.last }
    }
    // Each row comes with its package's largest sort key from the index.
    this.#maximaStatement ??= this.#db.prepare<PageParams, MaximaRow>(INDEXED_MAXIMA_SQL)
    const rows = this.#maximaStatement.all({ after, limit })
    const kept = rows.filter(
      (row) => row.maxKey !== null && storedValueSortKey(row.value) === row.maxKey,
    )
    return { rows: kept.map(toAuditedRow), last: rows.at(-1)?.position ?? after }
  }

  /** `PrStore.exportVersionRows`; call it inside `SqlitePrQueries.read`. */
  exportVersionRows(versions: readonly string[]): AuditedPrRow[] {
    const select = this.#queries.isIndexed ? INDEXED_SELECT : SCAN_SELECT
    this.#versionStatement ??= this.#db.prepare<{ versions: string }, ExportRow>(
      `${select} WHERE m.version IN (SELECT value FROM json_each(@versions)) ` +
        "AND m.version <> '' ORDER BY m.rowid",
    )
    return this.#versionStatement.all({ versions: JSON.stringify(versions) }).map(toAuditedRow)
  }

  /** `PrStore.findRows`; call it inside `SqlitePrQueries.read`. */
  findRows(keys: readonly PrKey[]): PositionedPrRow[] {
    const statement = this.#keyRows()
    const rows: PositionedPrRow[] = []
    for (const { version, pkgarch, checksum } of keys) {
      for (const row of statement.iterate({ version, pkgarch, checksum })) {
        rows.push({ ...row, value: toStoredValue(row.value) })
      }
    }
    return rows
  }

  /** `PrStore.rowStats`; call it inside `SqlitePrQueries.read`. */
  rowStats(): RowStats {
    const row = this.#db.prepare<[], RowStats>(ROW_STATS_SQL).get()
    return { rows: row?.rows ?? 0, lastPosition: row?.lastPosition ?? 0 }
  }

  #keyRows(): Database.Statement<PrKey, KeyRow> {
    this.#keyStatement ??= this.#db.prepare<PrKey, KeyRow>(KEY_ROWS_SQL)
    return this.#keyStatement
  }

  #keepPackageMaxima(rows: readonly AuditedPrRow[]): AuditedPrRow[] {
    const maxKeys = new Map<string, string | null>()
    return rows.filter((row) => {
      const group = JSON.stringify([row.version, row.pkgarch])
      let maxKey = maxKeys.get(group)
      if (maxKey === undefined) {
        const max = this.#queries.packageMax(row)
        maxKey = max === null ? null : revisionSortKey(max)
        maxKeys.set(group, maxKey)
      }
      return maxKey !== null && row.value !== null && revisionSortKey(row.value) === maxKey
    })
  }

  #statement(sql: string): Database.Statement<FilterParams, ExportRow> {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare<FilterParams, ExportRow>(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }
}

function toAuditedRow(row: ExportRow): AuditedPrRow {
  return {
    version: row.version,
    pkgarch: row.pkgarch,
    checksum: row.checksum,
    value: toStoredValue(row.value),
    createdAt: row.createdAt,
    peer: row.peer,
  }
}
