/**
 * `export` on PostgreSQL: rows matching the filters in insertion order, with their audit
 * trail; without history only the rows holding their package's numeric maximum (docs/compat.md
 * row 2), the maximum being taken over the whole package as BitBake does.
 */
import type { PendingQuery, Row, Sql } from 'postgres'
import type { AuditedPrRow, ExportFilter } from '../../services/prserv/pr-store.js'

interface ExportedRow {
  readonly version: string
  readonly pkgarch: string
  readonly checksum: string
  readonly value: string | null
  readonly created_at: Date | null
  readonly peer: string | null
}

/** Reads the rows `filter` selects (one statement, so one snapshot). */
export async function exportPrRows(sql: Sql, filter: ExportFilter): Promise<AuditedPrRow[]> {
  const rows = await sql<ExportedRow[]>`
    SELECT r.version, r.pkgarch, r.checksum, r.value, r.created_at, r.peer FROM prmain r
    WHERE r.version <> ''
      ${equals(sql, sql`r.version`, filter.version)}
      ${equals(sql, sql`r.pkgarch`, filter.pkgarch)}
      ${equals(sql, sql`r.checksum`, filter.checksum)}
      ${filter.history ? sql`` : holdsPackageMax(sql)}
    ORDER BY r.id`
  return rows.map((row) => ({
    version: row.version,
    pkgarch: row.pkgarch,
    checksum: row.checksum,
    value: row.value,
    createdAt: row.created_at === null ? null : row.created_at.toISOString(),
    peer: row.peer,
  }))
}

/** `AND column = value` for a non-empty filter value, else nothing (BitBake: falsy = all). */
function equals(sql: Sql, column: PendingQuery<Row[]>, value: string | null): PendingQuery<Row[]> {
  return value === null || value === '' ? sql`` : sql`AND ${column} = ${value}`
}

function holdsPackageMax(sql: Sql): PendingQuery<Row[]> {
  return sql`AND r.sort_key = (
    SELECT max(m.sort_key) FROM prmain m WHERE m.version = r.version AND m.pkgarch = r.pkgarch)`
}
