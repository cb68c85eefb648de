/**
 * Package maxima for the no-history export pages of a file without `prserv_order` (a
 * read-only store on a file only BitBake has written).
 */
import type Database from 'better-sqlite3'
import type { AuditedPrRow } from '../../services/prserv/pr-store.js'
import { revisionSortKey } from '../../services/prserv/revision.js'
import { SORT_KEY_FUNCTION } from './sqlite-order-index.js'

/** The largest sort key of each package of a JSON array of [version, pkgarch] pairs. */
const PACKAGE_MAXIMA_SQL =
  "SELECT json_extract(p.value, '$[0]') AS version, json_extract(p.value, '$[1]') AS pkgarch, " +
  `(SELECT max(${SORT_KEY_FUNCTION}(x.value)) FROM PRMAIN x ` +
  "WHERE x.version = json_extract(p.value, '$[0]') " +
  "AND x.pkgarch = json_extract(p.value, '$[1]')) AS maxKey FROM json_each(@packages) p"

/** Default most package maxima kept (about a hundred bytes each). */
export const DEFAULT_MAX_KEPT_PACKAGE_MAXIMA = 100_000

interface PackageMaxRow {
  readonly version: string
  readonly pkgarch: string
  readonly maxKey: string | null
}

/**
 * Each package's largest sort key, read from all its rows (through BitBake's primary key) once
 * and kept while no other connection commits (`PRAGMA data_version`): a paged export then
 * reads a package once instead of once per page it has rows on. At most `maxKept` maxima are
 * kept; beyond that they are read again. Needs `registerSortKeyFunction` on the connection.
 */
export class PackageMaxima {
  readonly #db: Database.Database
  readonly #maxKept: number
  readonly #maxKeys = new Map<string, string | null>()
  #statement: Database.Statement<{ packages: string }, PackageMaxRow> | null = null
  #dataVersion: number | null = null

  constructor(db: Database.Database, maxKept = DEFAULT_MAX_KEPT_PACKAGE_MAXIMA) {
    this.#db = db
    this.#maxKept = maxKept
  }

  /** The rows of `rows` that hold their package's maximum; call it inside a read transaction. */
  keepMaxima(rows: readonly AuditedPrRow[]): AuditedPrRow[] {
    const dataVersion = Number(this.#db.pragma('data_version', { simple: true }))
    if (dataVersion !== this.#dataVersion) this.#maxKeys.clear()
    this.#dataVersion = dataVersion
    const missing = new Map<string, readonly [string, string]>()
    for (const row of rows) {
      const key = packageKey(row)
      if (!this.#maxKeys.has(key)) missing.set(key, [row.version, row.pkgarch])
    }
    if (missing.size > 0) this.#read([...missing.values()])
    return rows.filter((row) => {
      const maxKey = this.#maxKeys.get(packageKey(row))
      return maxKey != null && row.value !== null && revisionSortKey(row.value) === maxKey
    })
  }

  #read(packages: readonly (readonly [string, string])[]): void {
    if (this.#maxKeys.size + packages.length > this.#maxKept) this.#maxKeys.clear()
    this.#statement ??= this.#db.prepare<{ packages: string }, PackageMaxRow>(PACKAGE_MAXIMA_SQL)
    for (const row of this.#statement.iterate({ packages: JSON.stringify(packages) })) {
      this.#maxKeys.set(packageKey(row), row.maxKey)
    }
  }
}

function packageKey(row: { readonly version: string; readonly pkgarch: string }): string {
  return `${row.version.length}:${row.version}${row.pkgarch}`
}
